/**
 * The one inbound contract: the registry's handler decides how each deliver_sm / data_sm is
 * answered, the supervisor sends exactly one answer on the session that received the PDU, and a
 * throwing, slow or late handler can neither crash the process nor answer twice. On a FakeClock
 * over an in-memory network.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { BindSupervisor, InboundHandler } from '../../src/binds/bind.js';
import { type BindOptions, withBindDefaults } from '../../src/binds/bind-options.js';
import { BindRegistry, type BindRegistryOptions } from '../../src/binds/registry.js';
import type { Logger } from '../../src/logger.js';
import { CommandStatus } from '../../src/protocol/command-status.js';
import type { Pdu } from '../../src/protocol/pdu.js';
import { FakeClock } from '../../src/session/clock.js';
import type { SmppSession } from '../../src/session/session.js';
import { settle } from '../helpers/memory-duplex.js';
import { MemoryNetwork } from './helpers/memory-network.js';

function options(over: Partial<BindOptions> = {}): BindOptions {
  return withBindDefaults({
    id: 'b1',
    host: 'smsc.test',
    port: 2775,
    systemId: 'esme',
    password: 'secret',
    enquireLinkIntervalMs: 0,
    reconnect: { initialDelayMs: 100, maxDelayMs: 1_600, stableAfterMs: 60_000 },
    ...over,
  });
}

interface World {
  clock: FakeClock;
  net: MemoryNetwork;
  registry: BindRegistry;
  bind: BindSupervisor;
  smsc: SmppSession;
}

const worlds: World[] = [];

afterEach(async () => {
  for (const w of worlds.splice(0)) {
    const stopping = w.registry.stopAll(1_000);
    await w.net.advance(1_000, 50);
    await stopping;
  }
});

async function world(
  deps: Omit<BindRegistryOptions, 'clock' | 'connect'> = {},
  bindOver: Partial<BindOptions> = {},
): Promise<World> {
  const clock = new FakeClock();
  const net = new MemoryNetwork(clock);
  const registry = new BindRegistry({ clock, connect: net.connect, sweepIntervalMs: 1_000, ...deps });
  const bind = registry.add(options(bindOver));
  registry.startAll();
  await settle(6);
  expect(bind.state).toBe('bound');
  const w = { clock, net, registry, bind, smsc: net.last! };
  worlds.push(w);
  return w;
}

/** The SMSC sends a deliver_sm; resolves with its answer (or never, if none comes). */
function deliver(w: World, text = 'hi'): Promise<Pdu> {
  return w.smsc.request('deliver_sm', {
    source_addr: '4912345',
    destination_addr: '1234',
    short_message: Buffer.from(text),
  });
}

/** A logger keeping the `code` of every warning. */
function warnings(): { logger: Logger; codes: unknown[] } {
  const codes: unknown[] = [];
  const noop = (): void => {};
  const logger: Logger = {
    trace: noop,
    debug: noop,
    info: noop,
    error: noop,
    warn: (obj: object | string) => {
      if (typeof obj === 'object') codes.push((obj as { code?: unknown }).code);
    },
    child: () => logger,
  };
  return { logger, codes };
}

function answers(w: World): Pdu[] {
  return w.net.commands('deliver_sm_resp').map((r) => r.pdu);
}

describe('inbound requests', () => {
  it('without a handler answers ESME_RSYSERR (ask the SMSC to retry; nothing is lost)', async () => {
    const w = await world();
    const resp = deliver(w);
    await settle(6);
    expect((await resp).command_status).toBe(CommandStatus.ESME_RSYSERR);
  });

  it("answers with the handler's status and message_id, for deliver_sm and data_sm", async () => {
    const seen: { command: string; bindId: string }[] = [];
    const w = await world({
      inbound: async (pdu, bind) => {
        seen.push({ command: pdu.command, bindId: bind.id });
        return { commandStatus: 0, messageId: `in-${seen.length}` };
      },
    });
    const d = deliver(w);
    const ds = w.smsc.request('data_sm', { source_addr: '4912345', destination_addr: '1234' });
    await settle(6);
    expect(await d).toMatchObject({ command: 'deliver_sm_resp', command_status: 0, message_id: 'in-1' });
    expect(await ds).toMatchObject({ command: 'data_sm_resp', command_status: 0, message_id: 'in-2' });
    expect(seen).toEqual([
      { command: 'deliver_sm', bindId: 'b1' },
      { command: 'data_sm', bindId: 'b1' },
    ]);
  });

  it('answers inboundErrorStatus when the handler throws, synchronously or by rejecting, and keeps running', async () => {
    let calls = 0;
    const w = await world({
      inboundErrorStatus: CommandStatus.ESME_RSYSERR,
      inbound: (() => {
        calls++;
        if (calls === 1) throw new Error('sync boom');
        return Promise.reject(new Error('async boom'));
      }) as InboundHandler,
    });
    const first = deliver(w, 'one');
    const second = deliver(w, 'two');
    await settle(6);
    expect((await first).command_status).toBe(CommandStatus.ESME_RSYSERR);
    expect((await second).command_status).toBe(CommandStatus.ESME_RSYSERR);
    // The bind is unharmed: still bound on the same connection.
    expect(w.bind.state).toBe('bound');
    expect(w.net.sessions).toHaveLength(1);
  });

  it("answers a bind's own inboundErrorStatus over the registry's, with or without a handler", async () => {
    const failing = await world(
      {
        inboundErrorStatus: CommandStatus.ESME_RSYSERR,
        inbound: () => Promise.reject(new Error('store down')),
      },
      { inboundErrorStatus: CommandStatus.ESME_RX_T_APPN },
    );
    const resp = deliver(failing);
    await settle(6);
    expect((await resp).command_status).toBe(CommandStatus.ESME_RX_T_APPN);
    const unhandled = await world({}, { inboundErrorStatus: CommandStatus.ESME_RX_T_APPN });
    const refused = deliver(unhandled);
    await settle(6);
    expect((await refused).command_status).toBe(CommandStatus.ESME_RX_T_APPN);
  });

  it('answers a result without a valid commandStatus with the error status', async () => {
    const w = await world({ inbound: (async () => ({ commandStatus: -1 })) as InboundHandler });
    const resp = deliver(w);
    await settle(6);
    expect((await resp).command_status).toBe(CommandStatus.ESME_RSYSERR);
  });

  it('answers a message_id too long to encode with the error status, without crashing', async () => {
    const log = warnings();
    const w = await world({
      logger: log.logger,
      inbound: async () => ({ commandStatus: 0, messageId: 'x'.repeat(100) }),
    });
    const resp = deliver(w);
    await settle(6);
    expect((await resp).command_status).toBe(CommandStatus.ESME_RSYSERR);
    expect(answers(w)).toHaveLength(1);
    expect(log.codes).toEqual(['SMPP_ERR_INBOUND_HANDLER']);
    expect(w.bind.state).toBe('bound');
  });

  it('answers a handler slower than inboundTimeoutMs with the error status exactly then, and only once', async () => {
    let finish: (() => void) | undefined;
    const w = await world({
      inboundTimeoutMs: 2_000,
      inbound: () =>
        new Promise((resolve) => {
          finish = () => resolve({ commandStatus: 0, messageId: 'late' });
        }),
    });
    const resp = deliver(w);
    await settle(6);
    expect(finish).toBeDefined();
    await w.net.advance(1_990, 10);
    expect(answers(w)).toHaveLength(0);
    await w.net.advance(10, 10);
    expect((await resp).command_status).toBe(CommandStatus.ESME_RSYSERR);
    // The handler settles afterwards: no second answer goes out.
    finish!();
    await settle(6);
    expect(answers(w)).toHaveLength(1);
  });

  it('sends nothing when the handler settles after the session closed, and drops its time bound', async () => {
    let finish: (() => void) | undefined;
    const log = warnings();
    const w = await world({
      logger: log.logger,
      inboundTimeoutMs: 1_000,
      inbound: () =>
        new Promise((resolve) => {
          finish = () => resolve({ commandStatus: 0 });
        }),
    });
    void deliver(w).catch(() => {});
    await settle(6);
    expect(finish).toBeDefined();
    // The SMSC drops the connection while the handler works.
    w.net.clientSockets[0]!.destroy();
    await settle(6);
    // Past the bound: the dropped request's timer went with its session, so no timeout fires.
    await w.net.advance(3_000, 50);
    expect(log.codes).not.toContain('SMPP_ERR_INBOUND_TIMEOUT');
    expect(w.net.sessions.length).toBeGreaterThan(1);
    // The handler settles at last: nothing is sent, not on the new connection either.
    finish!();
    await settle(6);
    expect(answers(w)).toHaveLength(0);
  });

  it('logs a slow handler with SMPP_ERR_INBOUND_TIMEOUT and a throwing one with SMPP_ERR_INBOUND_HANDLER', async () => {
    const log = warnings();
    let calls = 0;
    const w = await world({
      logger: log.logger,
      inboundTimeoutMs: 500,
      inbound: () => {
        calls++;
        if (calls === 1) return new Promise(() => {});
        throw new Error('boom');
      },
    });
    void deliver(w);
    await settle(6);
    await w.net.advance(500, 50);
    void deliver(w);
    await settle(6);
    expect(log.codes).toEqual(['SMPP_ERR_INBOUND_TIMEOUT', 'SMPP_ERR_INBOUND_HANDLER']);
  });

  it('has one handler: a second registration is refused, so two parts can never both answer', async () => {
    const w = await world();
    const first: InboundHandler = async () => ({ commandStatus: 0, messageId: 'first' });
    const second: InboundHandler = async () => ({ commandStatus: 0, messageId: 'second' });
    w.registry.setInboundHandler(first);
    expect(() => w.registry.setInboundHandler(second)).toThrow(
      expect.objectContaining({ code: 'SMPP_ERR_INBOUND_HANDLER' }),
    );
    const resp = deliver(w);
    await settle(6);
    expect(await resp).toMatchObject({ message_id: 'first' });
    expect(answers(w)).toHaveLength(1);
    // Handing over is explicit: clear, then set.
    w.registry.setInboundHandler(null);
    w.registry.setInboundHandler(second);
    const again = deliver(w);
    await settle(6);
    expect(await again).toMatchObject({ message_id: 'second' });
  });
});
