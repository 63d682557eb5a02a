/**
 * A hostile peer against one session, on a fake clock over in-memory sockets (issue 8): a flood
 * of requests from a peer that never reads our answers (bounded output, write_stalled), a PDU
 * that starts and never completes (no proof of life, frame_stalled), answers to requests we never
 * sent (rate-limited warnings) and refused probes (alive, but rejected).
 */
import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../src/logger.js';
import { encodePdu } from '../../src/protocol/codec.js';
import { CommandStatus } from '../../src/protocol/command-status.js';
import { createPdu, type Pdu } from '../../src/protocol/pdu.js';
import { FakeClock } from '../../src/session/clock.js';
import { SmppProbeRejectedError } from '../../src/session/errors.js';
import { type SessionOptions, SmppSession } from '../../src/session/session.js';
import type { SessionRole } from '../../src/session/state.js';
import { decodeAll, MemorySocket, settle } from '../helpers/memory-duplex.js';

const S = 1_000;

/**
 * A socket whose peer does not read: every write is held (its callback not called) until
 * `release()`, so `writableLength` grows like a TCP socket's whose send buffer is full.
 */
class StalledSocket extends Duplex {
  readonly remoteAddress = '127.0.0.1';
  readonly remotePort = 40_001;
  private held: { chunks: Buffer[]; callback: (error?: Error | null) => void }[] = [];
  readonly delivered: Buffer[] = [];

  constructor(writableHighWaterMark = 1_024) {
    super({ allowHalfOpen: false, writableHighWaterMark });
  }

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.held.push({ chunks: [chunk], callback });
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.held.push({ chunks: chunks.map((c) => c.chunk), callback });
  }

  inject(bytes: Buffer): void {
    this.push(bytes);
  }

  /** The peer reads everything held so far (later writes are held again). */
  release(): void {
    for (const { chunks, callback } of this.held.splice(0)) {
      this.delivered.push(...chunks);
      callback();
    }
  }
}

function frames(command: 'enquire_link' | 'submit_sm', count: number, firstSeq = 1): Buffer {
  const one = (seq: number): Buffer =>
    encodePdu(
      command === 'submit_sm'
        ? createPdu('submit_sm', {
            sequence_number: seq,
            destination_addr: '447700900123',
            short_message: Buffer.from('x'),
          })
        : createPdu('enquire_link', { sequence_number: seq }),
    );
  return Buffer.concat(Array.from({ length: count }, (_, i) => one(firstSeq + i)));
}

/** 16-octet PDUs with a command_id nobody knows: each is answered with generic_nack. */
function unknownCommands(count: number): Buffer {
  const buf = Buffer.alloc(16 * count);
  for (let i = 0; i < count; i++) {
    buf.writeUInt32BE(16, i * 16);
    buf.writeUInt32BE(0x00000077, i * 16 + 4);
    buf.writeUInt32BE(i + 1, i * 16 + 12);
  }
  return buf;
}

interface Captured {
  lines: { level: string; obj: Record<string, unknown>; msg: string }[];
  logger: Logger;
}

function captureLogger(): Captured {
  const lines: Captured['lines'] = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const at =
      (level: string) =>
      (objOrMsg: object | string, msg?: string): void => {
        if (typeof objOrMsg === 'string') lines.push({ level, obj: { ...bindings }, msg: objOrMsg });
        else
          lines.push({
            level,
            obj: { ...bindings, ...(objOrMsg as Record<string, unknown>) },
            msg: msg ?? '',
          });
      };
    return {
      trace: at('trace'),
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      child: (more) => make({ ...bindings, ...more }),
    };
  };
  return { lines, logger: make({}) };
}

async function boundOver(
  socket: Duplex & { inject(b: Buffer): void },
  role: SessionRole,
  options: Partial<SessionOptions>,
  clock: FakeClock,
): Promise<SmppSession> {
  const session = new SmppSession(socket, {
    role,
    clock,
    random: () => 1,
    sessionInitTimeoutMs: 0,
    ...options,
  });
  if (role === 'smsc') {
    socket.inject(
      encodePdu(createPdu('bind_transceiver', { sequence_number: 1, system_id: 'esme', password: 'pw' })),
    );
    await settle();
    return session;
  }
  const bind = session.bind('bind_transceiver', { system_id: 'esme', password: 'secret' });
  await settle();
  socket.inject(encodePdu(createPdu('bind_transceiver_resp', { sequence_number: 1, system_id: 'SMSC' })));
  await bind;
  return session;
}

describe('a peer that floods requests and never reads our answers', () => {
  const HWM = 4_096;
  const floods: { name: string; role: SessionRole; bytes: () => Buffer; answerLength: number }[] = [
    {
      name: 'enquire_link (answered by the session itself)',
      role: 'esme',
      bytes: () => frames('enquire_link', 2_000, 2),
      answerLength: 16,
    },
    {
      name: 'unknown commands (generic_nack)',
      role: 'esme',
      bytes: () => unknownCommands(2_000),
      answerLength: 16,
    },
    // submit_sm_resp with a 10-octet message_id: 16 + 11.
    {
      name: 'submit_sm (answered through respond())',
      role: 'smsc',
      bytes: () => frames('submit_sm', 2_000, 2),
      answerLength: 27,
    },
  ];

  for (const flood of floods) {
    it(`${flood.name}: unsent output never exceeds the high-water mark plus one answer`, async () => {
      const clock = new FakeClock();
      const socket = new StalledSocket();
      const session = await boundOver(
        socket,
        flood.role,
        {
          writeHighWaterMarkBytes: HWM,
          writeStallTimeoutMs: 5 * S,
          enquireLinkIntervalMs: 0,
          onRequest: (pdu, s) => {
            if (pdu.command === 'bind_transceiver') s.acceptBind(pdu, 'SMSC');
            else s.respond(pdu, { message_id: 'abcdefghij' });
          },
        },
        clock,
      );
      expect(session.bound).toBe(true);
      socket.release();
      // Five bursts of 2,000 requests, as from a peer flooding every 10 ms.
      for (let i = 0; i < 5; i++) {
        socket.inject(flood.bytes());
        await settle();
        clock.advance(10);
      }
      expect(session.readingPaused).toBe(true);
      expect(session.maxQueuedBytes).toBeGreaterThan(HWM);
      expect(session.maxQueuedBytes).toBeLessThanOrEqual(HWM + flood.answerLength);
      expect(session.queuedBytes).toBeLessThanOrEqual(HWM + flood.answerLength);
      expect(session.closed).toBe(false);
    });
  }

  it('reading resumes once the peer reads, and every request is answered in the end', async () => {
    const clock = new FakeClock();
    const socket = new StalledSocket();
    const session = await boundOver(
      socket,
      'esme',
      { writeHighWaterMarkBytes: HWM, enquireLinkIntervalMs: 0 },
      clock,
    );
    socket.release();
    socket.delivered.length = 0;
    socket.inject(frames('enquire_link', 2_000, 2));
    await settle();
    expect(session.readingPaused).toBe(true);
    for (let i = 0; i < 100 && decodeAll(Buffer.concat(socket.delivered)).length < 2_000; i++) {
      socket.release();
      await settle();
      expect(session.queuedBytes).toBeLessThanOrEqual(HWM + 16);
    }
    const answers = decodeAll(Buffer.concat(socket.delivered));
    expect(answers).toHaveLength(2_000);
    expect(answers.every((p) => p.command === 'enquire_link_resp')).toBe(true);
    expect(answers.map((p) => p.sequence_number)).toEqual(Array.from({ length: 2_000 }, (_, i) => i + 2));
    expect(session.readingPaused).toBe(false);
    expect(session.maxQueuedBytes).toBeLessThanOrEqual(HWM + 16);
  });

  it('output that does not drain within writeStallTimeoutMs closes the session: write_stalled', async () => {
    const clock = new FakeClock();
    const socket = new StalledSocket();
    const session = await boundOver(
      socket,
      'esme',
      { writeHighWaterMarkBytes: HWM, writeStallTimeoutMs: 5 * S, enquireLinkIntervalMs: 0 },
      clock,
    );
    socket.release();
    const closes: { reason: string; error?: Error }[] = [];
    session.on('close', (c) => closes.push(c));
    socket.inject(frames('enquire_link', 2_000, 2));
    await settle();
    expect(session.readingPaused).toBe(true);
    clock.advance(5 * S - 1);
    await settle();
    expect(session.closed).toBe(false);
    clock.advance(1);
    await settle();
    expect(closes).toHaveLength(1);
    expect(closes[0]!.reason).toBe('write_stalled');
    expect(closes[0]!.error).toMatchObject({ code: 'SMPP_ERR_SESSION_WRITE_STALLED' });
  });

  it('the high-water mark is never below the socket’s own, so a drain always comes', async () => {
    const clock = new FakeClock();
    const socket = new StalledSocket(16_384);
    const session = await boundOver(
      socket,
      'esme',
      { writeHighWaterMarkBytes: 1_024, enquireLinkIntervalMs: 0 },
      clock,
    );
    socket.release();
    socket.inject(frames('enquire_link', 2_000, 2));
    await settle();
    expect(session.readingPaused).toBe(true);
    expect(session.maxQueuedBytes).toBeGreaterThan(16_384);
    expect(session.maxQueuedBytes).toBeLessThanOrEqual(16_384 + 16);
    // Each release lets the socket hand down what it buffered, which is held again: a few rounds.
    for (let i = 0; i < 100 && socket.delivered.length < 2_000; i++) {
      socket.release();
      await settle();
    }
    expect(session.readingPaused).toBe(false);
    expect(
      decodeAll(Buffer.concat(socket.delivered)).filter((p) => p.command === 'enquire_link_resp'),
    ).toHaveLength(2_000);
  });
});

describe('a PDU that starts and never completes', () => {
  /** The first 8 octets of a 65,000-octet PDU. */
  const HEAD = Buffer.from('0000fde800000004', 'hex');

  async function dripping(options: Partial<SessionOptions>) {
    const clock = new FakeClock();
    const socket = new MemorySocket();
    const session = await boundOver(socket, 'esme', { enquireLinkTimeoutMs: 10 * S, ...options }, clock);
    socket.takePdus();
    const t0 = clock.now();
    socket.inject(HEAD);
    await settle();
    /** One more octet every 900 ms up to `untilMs` after t0. */
    const drip = async (untilMs: number): Promise<void> => {
      while (clock.now() - t0 + 900 <= untilMs && !session.closed) {
        clock.advance(900);
        socket.inject(Buffer.from([0x41]));
        await settle();
      }
      clock.advance(untilMs - (clock.now() - t0));
      await settle();
    };
    return { clock, socket, session, t0, drip };
  }

  it('is no proof of life: the keepalive goes out on time and the silent link closes at interval + 2 × timeout', async () => {
    const h = await dripping({ enquireLinkIntervalMs: 30 * S, maxMissedProbes: 2, frameTimeoutMs: 120 * S });
    const boundRx = h.session.lastReceivedAt;
    const closes: { reason: string; at: number }[] = [];
    h.session.on('close', ({ reason }) => closes.push({ reason, at: h.clock.now() - h.t0 }));
    await h.drip(30 * S - 1);
    expect(h.socket.takePdus()).toEqual([]);
    expect(h.session.lastReceivedAt).toBe(boundRx);
    await h.drip(30 * S);
    expect(h.socket.takePdus().map((p) => p.command)).toEqual(['enquire_link']);
    await h.drip(40 * S);
    expect(h.session.missed).toBe(1);
    await h.drip(50 * S);
    expect(closes).toEqual([{ reason: 'keepalive_timeout', at: 50 * S }]);
  });

  it('closes with frame_stalled once the PDU has been incomplete for frameTimeoutMs', async () => {
    const h = await dripping({ enquireLinkIntervalMs: 0, frameTimeoutMs: 20 * S });
    const closes: { reason: string; error?: Error; at: number }[] = [];
    h.session.on('close', ({ reason, error }) => closes.push({ reason, error, at: h.clock.now() - h.t0 }));
    await h.drip(20 * S - 1);
    expect(h.session.closed).toBe(false);
    await h.drip(20 * S);
    expect(closes).toHaveLength(1);
    expect(closes[0]).toMatchObject({ reason: 'frame_stalled', at: 20 * S });
    expect(closes[0]!.error).toMatchObject({ code: 'SMPP_ERR_SESSION_FRAME_STALLED' });
  });

  it("does not blame the peer while the socket's owner has paused reading; the bound runs again once it resumes", async () => {
    const h = await dripping({ enquireLinkIntervalMs: 0, frameTimeoutMs: 20 * S });
    h.socket.pause(); // e.g. the simulator holding back a client whose answers it cannot write yet
    h.clock.advance(45 * S);
    await settle();
    expect(h.session.closed).toBe(false);
    h.socket.resume();
    h.clock.advance(20 * S);
    await settle();
    expect(h.session.closeReason).toBe('frame_stalled');
  });

  it('a PDU completed in time stops the frame timeout; the next partial one starts its own', async () => {
    const clock = new FakeClock();
    const socket = new MemorySocket();
    const session = await boundOver(
      socket,
      'esme',
      { enquireLinkIntervalMs: 0, frameTimeoutMs: 10 * S },
      clock,
    );
    const el = encodePdu(createPdu('enquire_link', { sequence_number: 9 }));
    socket.inject(el.subarray(0, 5));
    await settle();
    clock.advance(9 * S);
    // The rest of it, and the start of the next one.
    socket.inject(Buffer.concat([el.subarray(5), el.subarray(0, 3)]));
    await settle();
    clock.advance(9 * S);
    await settle();
    expect(session.closed).toBe(false);
    socket.inject(el.subarray(3));
    await settle();
    clock.advance(60 * S);
    await settle();
    expect(session.closed).toBe(false);
  });
});

describe('answers to requests we never sent', () => {
  it('write at most one warning line per kind per interval, with the suppressed count', async () => {
    const clock = new FakeClock();
    const socket = new MemorySocket();
    const log = captureLogger();
    const session = await boundOver(
      socket,
      'esme',
      { enquireLinkIntervalMs: 0, logger: log.logger, logRateLimitMs: 10 * S },
      clock,
    );
    const stray = (seq: number) =>
      encodePdu(createPdu('submit_sm_resp', { sequence_number: seq, message_id: '' }));
    let bytesIn = 0;
    for (let burst = 0; burst < 25; burst++) {
      const chunk = Buffer.concat(Array.from({ length: 2_000 }, (_, i) => stray(burst * 2_000 + i + 100)));
      bytesIn += chunk.length;
      socket.inject(chunk);
      await settle();
      clock.advance(1 * S);
    }
    session.destroy();
    const warnings = log.lines.filter((l) => l.level === 'warn');
    // 50,000 stray answers over 25 s: the first, one per 10 s with a count, one at close.
    expect(warnings.length).toBeGreaterThanOrEqual(2);
    expect(warnings.length).toBeLessThanOrEqual(5);
    // Each line but the closing summary is one occurrence; `suppressed` counts the others.
    const suppressed = warnings.reduce(
      (n, w) => n + (typeof w.obj.suppressed === 'number' ? w.obj.suppressed : 0),
      0,
    );
    const summaries = warnings.filter((w) => w.msg.includes('warnings suppressed')).length;
    expect(summaries).toBe(1);
    expect(warnings.length - summaries + suppressed).toBe(50_000);
    const bytesOut = warnings.reduce((n, w) => n + JSON.stringify(w).length, 0);
    expect(bytesOut).toBeLessThan(bytesIn / 100);
  });
});

describe('a refused probe', () => {
  const answers: { name: string; answer: (seq: number) => Pdu }[] = [
    {
      name: 'generic_nack ESME_RINVCMDID',
      answer: (seq) =>
        createPdu('generic_nack', { sequence_number: seq, command_status: CommandStatus.ESME_RINVCMDID }),
    },
    {
      name: 'enquire_link_resp with ESME_RSYSERR',
      answer: (seq) =>
        createPdu('enquire_link_resp', { sequence_number: seq, command_status: CommandStatus.ESME_RSYSERR }),
    },
  ];
  for (const a of answers) {
    it(`${a.name}: rejects with the status, counts no miss, and postpones the keepalive`, async () => {
      const clock = new FakeClock();
      const socket = new MemorySocket();
      const session = await boundOver(socket, 'esme', { enquireLinkIntervalMs: 30 * S }, clock);
      const outcomes: unknown[] = [];
      session.on('probe', (o) => outcomes.push(o));
      socket.takePdus();
      const probe = session.probe();
      await settle();
      const [sent] = socket.takePdus();
      clock.advance(3);
      socket.inject(encodePdu(a.answer(sent!.sequence_number)));
      const error = await probe.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SmppProbeRejectedError);
      const status = a.answer(0).command_status;
      expect(error).toMatchObject({ code: 'SMPP_ERR_PROBE_REJECTED', commandStatus: status, rttMs: 3 });
      expect(outcomes).toEqual([
        expect.objectContaining({
          ok: false,
          rejected: true,
          commandStatus: status,
          rttMs: 3,
          trigger: 'manual',
        }),
      ]);
      expect(session.missed).toBe(0);
      expect(session.probing).toBe(false);
      // The answer was a proof of life: the next keepalive comes a whole interval after it.
      clock.advance(30 * S - 1);
      await settle();
      expect(socket.takePdus()).toEqual([]);
      clock.advance(1);
      await settle();
      expect(socket.takePdus().map((p) => p.command)).toEqual(['enquire_link']);
    });
  }
});
