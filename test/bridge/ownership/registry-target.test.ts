/**
 * The registry as bind ownership drives it (registryTarget): a bind it runs counts as starting
 * (filling the start window) while it connects or binds, and no longer once it is bound or its
 * bind failed. On a FakeClock over the in-memory SMSC.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { withBindDefaults } from '../../../src/binds/bind-options.js';
import { BindRegistry } from '../../../src/binds/registry.js';
import { registryTarget } from '../../../src/bridge/ownership/registry-target.js';
import { CommandStatus } from '../../../src/protocol/command-status.js';
import { FakeClock } from '../../../src/session/clock.js';
import type { ConnectOptions } from '../../../src/session/connect.js';
import { MemoryNetwork } from '../../binds/helpers/memory-network.js';
import { settle } from '../../helpers/memory-duplex.js';

const registries: { registry: BindRegistry; advance: (ms: number) => Promise<void> }[] = [];
afterEach(async () => {
  for (const w of registries.splice(0)) {
    const stopping = w.registry.stopAll(1_000);
    await w.advance(1_000);
    await stopping;
  }
});

function world() {
  const clock = new FakeClock();
  const net = new MemoryNetwork(clock);
  const registry = new BindRegistry({
    clock,
    random: () => 0.5,
    keepaliveRandom: () => 1,
    connect: (o: ConnectOptions) => net.connect(o),
  });
  const advance = async (ms: number): Promise<void> => {
    for (let left = ms; left > 0; left -= 5) {
      clock.advance(Math.min(5, left));
      await settle(6);
    }
  };
  registries.push({ registry, advance });
  for (const id of ['a', 'b']) {
    registry.add(
      withBindDefaults({
        id,
        host: 'smsc.test',
        port: 1,
        systemId: id,
        password: 'secret',
        reconnect: { initialDelayMs: 1_000, maxDelayMs: 60_000, stableAfterMs: 60_000 },
      }),
    );
  }
  return { net, registry, advance, target: registryTarget(registry) };
}

describe('registryTarget', () => {
  it('counts a bind as starting while it connects and binds, not once bound', async () => {
    const w = world();
    w.net.behaviour.answerDelayMs = 100;
    expect(w.target.starting!('a')).toBe(false);
    w.target.run('a');
    await w.advance(50);
    expect(w.target.starting!('a')).toBe(true);
    // Never started: not starting.
    expect(w.target.starting!('b')).toBe(false);
    await w.advance(100);
    expect(w.registry.get('a')!.state).toBe('bound');
    expect(w.target.starting!('a')).toBe(false);
  });

  it('counts a bind whose bind was refused as no longer starting (it waits to retry)', async () => {
    const w = world();
    w.net.behaviour.bindStatus = CommandStatus.ESME_RBINDFAIL;
    w.target.run('a');
    await w.advance(50);
    expect(w.registry.get('a')!.state).toBe('backoff');
    expect(w.target.starting!('a')).toBe(false);
  });
});
