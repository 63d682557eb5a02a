/**
 * The simulator's own life: listen and close are idempotent, close unbinds bound clients (and
 * does not wait long for one that never answers), a taken port is a typed error.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodePdu } from '../../src/protocol/codec.js';
import { Framer } from '../../src/protocol/framer.js';
import { createPdu } from '../../src/protocol/pdu.js';
import { FakeClock } from '../../src/session/clock.js';
import type { SmppSession } from '../../src/session/session.js';
import { SimulatorError } from '../../src/simulator/errors.js';
import { createSimulator, type SmscSimulator } from '../../src/simulator/simulator.js';
import { connectEsme, startSimulator, waitFor } from '../helpers/simulator.js';

const sims: SmscSimulator[] = [];
const esmes: SmppSession[] = [];
const raws: net.Socket[] = [];

afterEach(async () => {
  for (const e of esmes.splice(0)) e.destroy();
  for (const r of raws.splice(0)) r.destroy();
  for (const s of sims.splice(0)) await s.close();
});

describe('simulator lifecycle', () => {
  it('listens once however often asked, on a free port by default', async () => {
    const sim = createSimulator();
    sims.push(sim);
    expect(sim.port).toBe(0);
    const [a, b] = await Promise.all([sim.listen(), sim.listen()]);
    expect(a).toEqual(b);
    expect(a.host).toBe('127.0.0.1');
    expect(sim.port).toBe(a.port);
    expect(a.port).toBeGreaterThan(0);
  });

  it('reports a taken port as SMPP_ERR_SIM_LISTEN, and closes cleanly after', async () => {
    const first = await startSimulator();
    sims.push(first.sim);
    const second = createSimulator({ port: first.port });
    const error = await second.listen().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SimulatorError);
    expect(error).toMatchObject({ code: 'SMPP_ERR_SIM_LISTEN' });
    expect((error as Error).message).toMatch(/EADDRINUSE/);
    await second.close();
  });

  it('close() unbinds bound clients, emits close once, and refuses to listen again', async () => {
    const { sim, port } = await startSimulator();
    const e = await connectEsme(port);
    esmes.push(e);
    let closes = 0;
    sim.on('close', () => closes++);
    await Promise.all([sim.close(), sim.close()]);
    expect(e.closeReason).toBe('peer_unbind');
    expect(closes).toBe(1);
    expect(sim.closed).toBe(true);
    await expect(sim.listen()).rejects.toMatchObject({ code: 'SMPP_ERR_SIM_LISTEN' });
    const refused = await new Promise<string | undefined>((resolve) => {
      const probe = net.connect({ host: '127.0.0.1', port });
      probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code));
      probe.once('connect', () => {
        probe.destroy();
        resolve('connected');
      });
    });
    expect(refused).toBe('ECONNREFUSED');
  });

  it('does not wait long for a bound client that never answers unbind', async () => {
    const { sim, port } = await startSimulator();
    const raw = net.connect({ host: '127.0.0.1', port });
    raws.push(raw);
    raw.on('error', () => {});
    raw.resume(); // reads (and ignores) the unbind, so it sees the simulator's FIN
    const rawClosed = new Promise((resolve) => raw.once('close', resolve));
    raw.write(
      encodePdu(createPdu('bind_transceiver', { sequence_number: 1, system_id: 'mute', password: 'x' })),
    );
    await waitFor(() => sim.sessions()[0]?.state === 'bound_trx', 2_000, 'the bind');
    await sim.close();
    await rawClosed;
  });

  it('gives a client that never answers unbind exactly one second on its clock', async () => {
    const clock = new FakeClock();
    const { sim, port } = await startSimulator({ clock });
    const raw = net.connect({ host: '127.0.0.1', port });
    raws.push(raw);
    raw.on('error', () => {});
    // Framed: on a loaded machine the bind_resp and the unbind can arrive in one chunk.
    let unbinds = 0;
    const framer = new Framer();
    raw.on('data', (chunk: Buffer) => {
      framer.push(chunk);
      for (let f = framer.next(); f?.ok; f = framer.next()) {
        if (f.frame.readUInt32BE(4) === 0x00000006) unbinds++;
      }
    });
    raw.write(
      encodePdu(createPdu('bind_transceiver', { sequence_number: 1, system_id: 'mute', password: 'x' })),
    );
    await waitFor(() => sim.sessions()[0]?.state === 'bound_trx', 5_000, 'the bind');
    let closed = false;
    const closing = sim.close().then(() => {
      closed = true;
    });
    await waitFor(() => unbinds === 1, 5_000, 'the unbind');
    clock.advance(999);
    await new Promise((r) => setTimeout(r, 30));
    expect(closed).toBe(false);
    clock.advance(1);
    await closing;
  });

  it('clears pending receipts and message timers on close', async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const { sim, port } = await startSimulator({ receipts: { delayMs: 60_000 } });
    const e = await connectEsme(port);
    esmes.push(e);
    for (let i = 0; i < 20; i++) {
      await e.request('submit_sm', {
        destination_addr: '1',
        registered_delivery: 1,
        short_message: Buffer.from('x'),
      });
    }
    e.destroy();
    await sim.close();
    const after = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    expect(after).toBeLessThanOrEqual(before);
  });
});
