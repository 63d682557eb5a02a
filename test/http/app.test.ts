import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { BindRegistry } from '../../src/binds/registry.js';
import { buildApp } from '../../src/http/app.js';
import { LazyChildLogger } from '../../src/http/request-logger.js';
import { bindOptions, captureLogger, closedPort, config } from './harness.js';

describe('buildApp', () => {
  it('returns an app ready to listen, built over an empty registry without network', async () => {
    const app = await buildApp({ registry: new BindRegistry(), config: config() });
    const res = await app.inject({ url: '/binds' });
    expect(res.json()).toEqual({ binds: [], nextCursor: null });
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(200);
    await app.close();
  });

  it('removes every listener it put on the registry when it closes', async () => {
    const registry = new BindRegistry();
    registry.add(bindOptions('x', await closedPort()));
    const before = {
      transition: registry.listenerCount('transition'),
      probe: registry.listenerCount('probe'),
    };
    const apps = await Promise.all([1, 2, 3].map(() => buildApp({ registry, config: config() })));
    expect(registry.listenerCount('transition')).toBeGreaterThan(before.transition);
    expect(registry.listenerCount('probe')).toBeGreaterThan(before.probe);
    for (const app of apps) await app.close();
    expect(registry.listenerCount('transition')).toBe(before.transition);
    expect(registry.listenerCount('probe')).toBe(before.probe);
  });

  it('shows the package version in the OpenAPI document unless told another', async () => {
    const registry = new BindRegistry();
    const byDefault = await buildApp({ registry, config: config() });
    const told = await buildApp({ registry, config: config(), version: '9.9.9' });
    const pkg = (await import('../../package.json', { with: { type: 'json' } })).default as {
      version: string;
    };
    expect((byDefault.swagger() as { info: { version: string } }).info.version).toBe(pkg.version);
    expect((told.swagger() as { info: { version: string } }).info.version).toBe('9.9.9');
    await byDefault.close();
    await told.close();
  });
});

describe('a client that aborts its request', () => {
  it('is logged at debug, not as an unhandled error with a stack', async () => {
    const { logger, lines } = captureLogger('debug');
    const app = await buildApp({ registry: new BindRegistry(), config: config(), logger });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as net.AddressInfo;
    const socket = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      'POST /binds/x/enquire HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"time',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    socket.destroy();
    for (let i = 0; i < 100 && !lines.some((l) => /client closed the connection/.test(l.msg)); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await app.close();
    expect(lines.filter((l) => l.level >= 50)).toEqual([]);
    expect(lines.find((l) => /client closed the connection/.test(l.msg))?.level).toBe(20);
  });
});

describe('LazyChildLogger', () => {
  it('creates the child logger only when a line is written, with the bindings on every line', () => {
    const { logger, lines } = captureLogger('info');
    let children = 0;
    const parent = new Proxy(logger, {
      get(target, key, receiver) {
        if (key === 'child') {
          return (...args: Parameters<typeof logger.child>) => {
            children++;
            return target.child(...args);
          };
        }
        return Reflect.get(target, key, receiver);
      },
    });
    const lazy = new LazyChildLogger(parent, { reqId: 'req-7' }, {});
    expect(lazy.isLevelEnabled('debug')).toBe(false);
    expect(lazy.isLevelEnabled('info')).toBe(true);
    expect(lazy.level).toBe('info');
    lazy.debug('not written');
    expect(children).toBe(0);
    lazy.info({ a: 1 }, 'first');
    lazy.warn('second');
    expect(children).toBe(1);
    expect(lines.map((l) => [l.msg, l.reqId, l.a])).toEqual([
      ['first', 'req-7', 1],
      ['second', 'req-7', undefined],
    ]);
    lazy.child({ more: true }).error('third');
    expect(lines[2]).toMatchObject({ msg: 'third', reqId: 'req-7', more: true });
  });

  it('never creates a child when nothing is logged', () => {
    const { logger } = captureLogger('info');
    let children = 0;
    const parent = Object.assign(Object.create(logger), {
      child: (...args: Parameters<typeof logger.child>) => {
        children++;
        return logger.child(...args);
      },
    }) as typeof logger;
    const lazy = new LazyChildLogger(parent, { reqId: 'req-8' }, {});
    expect(lazy.isLevelEnabled('info')).toBe(true);
    expect(lazy.level).toBe('info');
    expect(children).toBe(0);
  });
});
