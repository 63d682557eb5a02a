/**
 * Resource hygiene: 1,000 connect/bind/close cycles of our ESME against the simulator, with
 * faults mixed in (drop fin and rst, refuse_bind, a blackhole met with a short bind timeout),
 * leave no socket, timer or listener behind, and the simulator forgets every session.
 */
import { describe, expect, it } from 'vitest';
import { CommandStatus } from '../../src/protocol/command-status.js';
import type { SmppSession } from '../../src/session/session.js';
import { connectEsme, openEsme, startSimulator, waitFor } from '../helpers/simulator.js';

function resources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

/** Resource types of which more are active now than in `baseline` (vitest's own may come and go). */
function leftOver(baseline: Record<string, number>, only?: string): Record<string, number> {
  const extra: Record<string, number> = {};
  for (const [type, n] of Object.entries(resources())) {
    if (only !== undefined && type !== only) continue;
    if (n > (baseline[type] ?? 0)) extra[type] = n - (baseline[type] ?? 0);
  }
  return extra;
}

/** Waits (a few seconds at most) for the active resources to come back to `baseline`. */
async function settlesTo(baseline: Record<string, number>, only?: string): Promise<Record<string, number>> {
  const deadline = Date.now() + 3_000;
  let extra = leftOver(baseline, only);
  while (Object.keys(extra).length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    extra = leftOver(baseline, only);
  }
  return extra;
}

type Cycle = 'plain' | 'submit' | 'drop-fin' | 'drop-rst' | 'refused' | 'hole';
const PLAN: Cycle[] = [
  'plain',
  'submit',
  'drop-fin',
  'plain',
  'drop-rst',
  'submit',
  'refused',
  'plain',
  'hole',
  'submit',
];

describe('resource hygiene', () => {
  it('1,000 cycles leave no sockets, timers or listeners behind', { timeout: 180_000 }, async () => {
    const before = resources();
    const started = await startSimulator({ receipts: { delayMs: 1 } });
    const { sim, port } = started;
    sim.setFault({ kind: 'drop', mode: 'fin' }, { systemId: 'drop-fin' });
    sim.setFault({ kind: 'drop', mode: 'rst' }, { systemId: 'drop-rst' });
    sim.setFault({ kind: 'refuse_bind', status: CommandStatus.ESME_RBINDFAIL }, { systemId: 'refused' });
    sim.setFault({ kind: 'blackhole' }, { systemId: 'hole' });
    const listening = resources();
    const listenersBefore = process.listenerCount('uncaughtException') + process.listenerCount('SIGTERM');
    const outcomes: Record<string, number> = {};

    for (let i = 0; i < 1_000; i++) {
      const cycle = PLAN[i % PLAN.length] as Cycle;
      let esme: SmppSession | undefined;
      try {
        if (cycle === 'hole' || cycle === 'refused') {
          // The blackhole never answers (30 ms proves nothing came); a refusal gets all the time it needs.
          esme = await openEsme(port, { bindTimeoutMs: cycle === 'hole' ? 30 : 30_000 });
          await esme.bind('bind_transceiver', { system_id: cycle, password: 'x' });
        } else {
          esme = await connectEsme(port, { systemId: cycle, responseTimeoutMs: 30_000 });
          if (cycle === 'submit') {
            await esme.request('submit_sm', {
              destination_addr: '447700900123',
              registered_delivery: 1,
              short_message: Buffer.from('x'),
            });
          }
          if (cycle.startsWith('drop')) await esme.whenClosed();
          else await esme.close();
        }
        outcomes[`${cycle}:${esme.closeReason ?? 'open'}`] =
          (outcomes[`${cycle}:${esme.closeReason ?? 'open'}`] ?? 0) + 1;
      } catch (error) {
        const name = (error as Error).name;
        outcomes[`${cycle}:${name}`] = (outcomes[`${cycle}:${name}`] ?? 0) + 1;
      } finally {
        esme?.destroy();
      }
    }

    expect(outcomes).toEqual({
      'plain:local_close': 300,
      'submit:local_close': 300,
      'drop-fin:peer_closed': 100,
      'drop-rst:socket_error': 100,
      'refused:SmppBindError': 100,
      'hole:SmppResponseTimeoutError': 100,
    });
    await waitFor(() => sim.sessions().length === 0, 3_000, 'the simulator to forget every session');
    expect(sim.counters().binds).toBe(800);
    // While the simulator still runs: no socket left open on either side (receipts that found
    // no receiver may still wait for a retry, which close() clears).
    expect(await settlesTo(listening, 'TCPSocketWrap')).toEqual({});

    await started.close();
    expect(await settlesTo(before)).toEqual({});
    expect(process.listenerCount('uncaughtException') + process.listenerCount('SIGTERM')).toBe(
      listenersBefore,
    );
    expect(sim.listenerCount('bind')).toBe(0);
  });
});
