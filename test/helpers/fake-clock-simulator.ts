/**
 * The SMSC simulator on a fake clock, for the simulator's timing and case tests: real loopback
 * sockets, only the simulator's time is fake. One per test file:
 *
 *   const h = fakeClockSimulator({ sim: { receipts: { delayMs: 1_000 } }, esme: { systemId: 'acme' } });
 *   afterEach(() => h.close());
 *   const s = await h.sim(); const e = await h.esme(); h.clock.advance(60_000);
 *
 * `sim()` starts a simulator on a new FakeClock (each test starts from the same time, with no
 * timer of an earlier test); `esme()` connects a bound ESME to it. `close()` destroys the ESMEs
 * and tracked sockets, then closes the simulator, moving its clock while close() waits (it may
 * wait for an unbind_resp on the fake clock).
 */
import { FakeClock } from '../../src/session/clock.js';
import type { SmppSession } from '../../src/session/session.js';
import type { SimulatorOptions } from '../../src/simulator/simulator.js';
import { connectEsme, type EsmeOptions, type StartedSimulator, startSimulator } from './simulator.js';

export interface FakeClockSimulator {
  /** The clock of the simulator `sim()` started last. */
  readonly clock: FakeClock;
  /** The simulator `sim()` started last; throws before the first. */
  readonly started: StartedSimulator;
  /** Starts a simulator on a new FakeClock: the defaults given, then `options`. */
  sim(options?: SimulatorOptions): Promise<StartedSimulator>;
  /** Connects and binds an ESME to the simulator: the defaults given, then `options`. */
  esme(options?: EsmeOptions): Promise<SmppSession>;
  /** Destroys `socket` at close(). */
  track<T extends { destroy(): void }>(socket: T): T;
  /** For afterEach: ESMEs and tracked sockets destroyed, the simulator closed. */
  close(): Promise<void>;
}

export function fakeClockSimulator(
  defaults: { sim?: SimulatorOptions; esme?: EsmeOptions } = {},
): FakeClockSimulator {
  let clock = new FakeClock();
  let started: StartedSimulator | undefined;
  const sockets: { destroy(): void }[] = [];
  return {
    get clock() {
      return clock;
    },
    get started() {
      if (started === undefined) throw new Error('no simulator: call sim() first');
      return started;
    },
    async sim(options = {}) {
      clock = new FakeClock();
      started = await startSimulator({ clock, ...defaults.sim, ...options });
      return started;
    },
    async esme(options = {}) {
      if (started === undefined) throw new Error('no simulator: call sim() first');
      const e = await connectEsme(started.port, { ...defaults.esme, ...options });
      sockets.push(e);
      return e;
    },
    track(socket) {
      sockets.push(socket);
      return socket;
    },
    async close() {
      for (const s of sockets.splice(0)) s.destroy();
      let closed = false;
      const closing = started?.close().then(() => {
        closed = true;
      });
      while (closing && !closed) {
        clock.advance(1_000);
        await new Promise((r) => setTimeout(r, 10));
      }
      started = undefined;
    },
  };
}

/**
 * A promise and whether it has settled yet: for "not yet" after the fake clock stopped one
 * millisecond short. A rejection nobody awaits (an answer never written when the test closes the
 * session) is not reported as unhandled; `value` still rejects for whoever awaits it.
 */
export function watch<T>(p: Promise<T>): { done: () => boolean; value: Promise<T> } {
  let settled = false;
  const value = p.finally(() => {
    settled = true;
  });
  value.catch(() => {});
  return { done: () => settled, value };
}
