/**
 * A hostile SMSC over real loopback TCP (issue 8, defect 1): it binds us, then floods enquire_link
 * (2,000 every 10 ms) and never reads our answers. Our unsent output must stay bounded (reading
 * pauses above the high-water mark, so the flood stops at TCP), the session must close with
 * write_stalled when the SMSC still does not read, and the bind must go unhealthy and reconnect.
 * Real time gives only eventual assertions here; exact timing is on a fake clock in
 * test/session/hostile-peer.test.ts.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { withBindDefaults } from '../../src/binds/bind-options.js';
import { BindRegistry } from '../../src/binds/registry.js';
import { decodePdu, encodePdu } from '../../src/protocol/codec.js';
import { Framer } from '../../src/protocol/framer.js';
import { createPdu } from '../../src/protocol/pdu.js';
import type { SmppSession } from '../../src/session/session.js';
import { waitFor } from '../helpers/simulator.js';

const HWM = 64 * 1024;
const FLOOD = Buffer.concat(
  Array.from({ length: 2_000 }, (_, i) => encodePdu(createPdu('enquire_link', { sequence_number: i + 10 }))),
);

interface Hostile {
  port: number;
  connections: number;
  close(): Promise<void>;
}

/** Binds anyone, then floods enquire_link every 10 ms and never reads again. */
async function hostileSmsc(): Promise<Hostile> {
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const state = { connections: 0 };
  const server = net.createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    const framer = new Framer();
    socket.on('data', (chunk: Buffer) => {
      framer.push(chunk);
      const next = framer.next();
      if (next === undefined || !next.ok) return;
      const decoded = decodePdu(next.frame);
      if (!decoded.ok || decoded.pdu.command !== 'bind_transceiver') return;
      socket.write(
        encodePdu(
          createPdu('bind_transceiver_resp', {
            sequence_number: decoded.pdu.sequence_number,
            system_id: 'HOSTILE',
          }),
        ),
      );
      // Never read again; flood (the attacker itself stops queueing past 4 MB, to keep the test bounded).
      socket.removeAllListeners('data');
      socket.pause();
      const flood = setInterval(() => {
        if (socket.destroyed) clearInterval(flood);
        else if (socket.writableLength < 4 * 1024 * 1024) socket.write(FLOOD);
      }, 10);
      timers.add(flood);
      socket.on('close', () => {
        clearInterval(flood);
        timers.delete(flood);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get connections() {
      return state.connections;
    },
    close: async () => {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('an SMSC that floods enquire_link and never reads our answers', () => {
  it('bounds our unsent output, closes the session with write_stalled, and reconnects', async () => {
    const smsc = await hostileSmsc();
    const registry = new BindRegistry({ sweepIntervalMs: 20, keepaliveRandom: () => 1 });
    cleanup.push(async () => {
      await registry.stopAll(1_000);
      await smsc.close();
    });
    const bind = registry.add(
      withBindDefaults({
        id: 'hostile',
        host: '127.0.0.1',
        port: smsc.port,
        systemId: 'bridge',
        password: 'secret',
        enquireLinkIntervalMs: 60_000,
        responseTimeoutMs: 2_000,
        writeHighWaterMarkBytes: HWM,
        writeStallTimeoutMs: 300,
        reconnect: { initialDelayMs: 50, maxDelayMs: 200, stableAfterMs: 60_000 },
      }),
    );
    const sessions: SmppSession[] = [];
    const unbound: string[] = [];
    let maxQueued = 0;
    let pausedSeen = false;
    let blockedSeen = false;
    let statusAtClose: string | undefined;
    bind.on('bound', ({ session }) => sessions.push(session));
    let reasonAtClose: string | undefined;
    bind.on('unbound', ({ reason }) => {
      unbound.push(reason);
      statusAtClose ??= bind.evaluate().status;
      // The reconnect is scheduled right after 'unbound': read the reason once it is.
      queueMicrotask(() => {
        reasonAtClose ??= bind.evaluate().reason;
      });
    });
    const sampler = setInterval(() => {
      const s = sessions[0];
      if (!s || s.closed) return;
      maxQueued = Math.max(maxQueued, s.queuedBytes);
      pausedSeen ||= s.readingPaused;
      if (s.readingPaused) blockedSeen ||= bind.evaluate().code === 'OUTPUT_BLOCKED';
    }, 5);
    cleanup.push(async () => clearInterval(sampler));
    registry.startAll();

    // The kernel's socket buffers take a few MB (about 5 s of this flood) before backpressure shows.
    await waitFor(() => unbound.length > 0, 40_000, 'the first session closed');
    expect(unbound[0]).toBe('write_stalled');
    expect(statusAtClose).toBe('unhealthy');
    // While reading was paused the bind said why, before the stall closed it.
    expect(blockedSeen).toBe(true);
    expect(reasonAtClose).toContain('write_stalled');
    expect(bind.health().lastError).toMatchObject({ code: 'SMPP_ERR_SESSION_WRITE_STALLED' });
    const first = sessions[0]!;
    expect(first.closeReason).toBe('write_stalled');
    expect(pausedSeen).toBe(true);
    // Never more than the high-water mark plus one 16-octet enquire_link_resp.
    expect(first.maxQueuedBytes).toBeGreaterThan(0);
    expect(first.maxQueuedBytes).toBeLessThanOrEqual(HWM + 16);
    expect(maxQueued).toBeLessThanOrEqual(HWM + 16);
    // It reconnects with backoff, and the next session meets the same fate.
    await waitFor(() => smsc.connections >= 2, 10_000, 'a reconnect');
  }, 60_000);
});
