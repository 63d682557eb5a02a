/**
 * 1,000 forced reconnects — rebind() and the simulator dropping the connection (FIN and RST) —
 * leave nothing behind once the registry is stopped: no socket, no timer, no listener.
 * Resources are counted two ways: process.getActiveResourcesInfo() (what keeps the loop alive)
 * and an async_hooks tally of every TCP handle and Timeout created and not yet destroyed
 * (unref'ed timers included).
 */
import { createHook } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { withBindDefaults } from '../../src/binds/bind-options.js';
import { BindRegistry } from '../../src/binds/registry.js';
import { startSimulator, waitFor } from '../helpers/simulator.js';

const TRACKED = new Set(['TCPWRAP', 'TCPCONNECTWRAP', 'Timeout', 'TCPSERVERWRAP']);

function tally(): { live: Map<number, string>; stop(): void; counts(): Record<string, number> } {
  const live = new Map<number, string>();
  const hook = createHook({
    init(asyncId, type) {
      if (TRACKED.has(type)) live.set(asyncId, type);
    },
    destroy(asyncId) {
      live.delete(asyncId);
    },
  });
  hook.enable();
  return {
    live,
    stop: () => hook.disable(),
    counts: () => {
      const out: Record<string, number> = {};
      for (const type of live.values()) out[type] = (out[type] ?? 0) + 1;
      return out;
    },
  };
}

function activeResources(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
}

/** Lets closed handles be released (libuv frees them on a later turn) and timers be destroyed. */
async function quiesce(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 20));
  // The destroy hook of the last of these timers runs after its callback: one more turn.
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
}

describe('no leaks', () => {
  it('1,000 forced reconnects across 4 binds leave no sockets, timers or listeners', async () => {
    const sim = await startSimulator();
    await quiesce();
    const baseline = activeResources();
    const hooks = tally();
    try {
      const registry = new BindRegistry({ sweepIntervalMs: 50 });
      const binds = [0, 1, 2, 3].map((i) =>
        registry.add(
          withBindDefaults({
            id: `leak-${i}`,
            host: '127.0.0.1',
            port: sim.port,
            systemId: `leak${i}`,
            password: 'secret',
            enquireLinkIntervalMs: 50,
            enquireLinkTimeoutMs: 1_000,
            bindTimeoutMs: 1_000,
            unbindTimeoutMs: 500,
            reconnect: { initialDelayMs: 1, maxDelayMs: 5, stableAfterMs: 60_000 },
          }),
        ),
      );
      const listenerCounts = () =>
        binds.map((b) =>
          b
            .eventNames()
            .map((e) => `${String(e)}:${b.listenerCount(e)}`)
            .join(','),
        );
      const before = listenerCounts();
      registry.startAll();
      await waitFor(() => binds.every((b) => b.state === 'bound'), 3_000, 'all bound');

      let reconnects = 0;
      const t = performance.now();
      await Promise.all(
        binds.map(async (bind, i) => {
          for (let n = 0; n < 250; n++) {
            const session = bind.currentSession;
            if (n % 25 === 24) {
              // Every 25th: the SMSC drops the connection (alternately FIN and RST).
              const id = sim.sim.setFault(
                { kind: 'drop', mode: n % 50 === 49 ? 'rst' : 'fin' },
                {
                  systemId: `leak${i}`,
                },
              );
              await waitFor(() => bind.currentSession !== session, 2_000, 'dropped');
              sim.sim.clearFault(id);
            } else {
              await bind.rebind();
            }
            await waitFor(
              () => bind.state === 'bound' && bind.currentSession !== session,
              2_000,
              'bound again',
            );
            reconnects++;
          }
        }),
      );
      const tookMs = performance.now() - t;
      expect(reconnects).toBe(1_000);
      expect(tookMs).toBeLessThan(30_000);
      const counters = binds.map((b) => b.health().counters);
      expect(counters.reduce((n, c) => n + c.binds, 0)).toBeGreaterThanOrEqual(1_004);

      const { timedOut } = await registry.stopAll(2_000);
      expect(timedOut).toBe(false);
      expect(binds.map((b) => b.state)).toEqual(['stopped', 'stopped', 'stopped', 'stopped']);
      expect(listenerCounts()).toEqual(before);
      await waitFor(() => sim.sim.sessions().length === 0, 2_000, 'the simulator sees no session');
      await quiesce();

      expect(activeResources()).toEqual(baseline);
      // Nothing created during the run is still alive: every socket, connect and timer is gone.
      expect(hooks.counts()).toEqual({});
    } finally {
      hooks.stop();
      await sim.close();
    }
  }, 60_000);
});
