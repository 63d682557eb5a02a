/**
 * An in-memory socket pair for session tests: two Duplex streams wired to each other like the
 * two ends of a TCP connection, with hooks to play the network's part — inject bytes as if the
 * peer sent them, see every byte written, deliver EOF, fail with ECONNRESET or EPIPE, destroy.
 *
 * Like net.Socket it is not half-open: EOF from the peer ends our side too, and a stream that
 * has both ended and finished closes itself ('close'). With no peer, bytes written are only
 * recorded and `end()` only marks `finished`.
 */
import { Duplex } from 'node:stream';
import { decodePdu } from '../../src/protocol/codec.js';
import { Framer } from '../../src/protocol/framer.js';
import type { Pdu } from '../../src/protocol/pdu.js';

export interface MemorySocketOptions {
  remoteAddress?: string;
  remotePort?: number;
}

/** An error shaped like the ones net.Socket emits (`code`, `errno`, `syscall`). */
export function socketError(
  code: 'ECONNRESET' | 'EPIPE' | 'ETIMEDOUT',
  syscall = 'read',
): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`${syscall} ${code}`);
  error.code = code;
  error.syscall = syscall;
  return error;
}

export class MemorySocket extends Duplex {
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  peer: MemorySocket | null = null;
  /** Every chunk written to this side, in order (after any cork batching). */
  readonly chunks: Buffer[] = [];
  /** How many times the stream handed bytes down (one per `_write`, one per batched `_writev`). */
  writeCalls = 0;
  /** True once `end()` was called on this side and its writes are done. */
  finished = false;
  noDelay: boolean | undefined;
  private failWrite: NodeJS.ErrnoException | null = null;
  private taken = 0;

  constructor(options: MemorySocketOptions = {}) {
    super({ allowHalfOpen: false });
    this.remoteAddress = options.remoteAddress;
    this.remotePort = options.remotePort;
  }

  setNoDelay(noDelay = true): this {
    this.noDelay = noDelay;
    return this;
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.writeCalls++;
    this.deliver([chunk], callback);
  }

  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    callback: (error?: Error | null) => void,
  ): void {
    this.writeCalls++;
    this.deliver(
      chunks.map((c) => c.chunk),
      callback,
    );
  }

  private deliver(chunks: Buffer[], callback: (error?: Error | null) => void): void {
    const failure = this.failWrite;
    if (failure) {
      this.failWrite = null;
      callback(failure);
      return;
    }
    for (const chunk of chunks) {
      this.chunks.push(chunk);
      const peer = this.peer;
      if (peer && !peer.destroyed && peer.readable) peer.push(chunk);
    }
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.finished = true;
    const peer = this.peer;
    if (peer && !peer.destroyed && peer.readable) peer.push(null);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const peer = this.peer;
    // A destroyed end looks like a reset to the other side, as with TCP.
    if (peer && !peer.destroyed) {
      if (error) peer.destroy(socketError('ECONNRESET'));
      else if (peer.readable) peer.push(null);
    }
    callback(error);
  }

  // ---------------------------------------------------------------- the network's part

  /** Bytes arriving from the peer. */
  inject(bytes: Buffer): void {
    this.push(bytes);
  }

  /** The peer closed its side (FIN). */
  injectEnd(): void {
    this.push(null);
  }

  /** The connection failed while reading (e.g. ECONNRESET). */
  injectError(code: 'ECONNRESET' | 'ETIMEDOUT' = 'ECONNRESET'): void {
    this.destroy(socketError(code));
  }

  /** The next write fails with this error (EPIPE: writing to a connection the peer reset). */
  failNextWrite(code: 'EPIPE' | 'ECONNRESET' = 'EPIPE'): void {
    this.failWrite = socketError(code, 'write');
  }

  /** Everything written so far, as one buffer. */
  get written(): Buffer {
    return Buffer.concat(this.chunks);
  }

  /** Bytes written since the last call. */
  takeWritten(): Buffer {
    const all = this.written;
    const fresh = all.subarray(this.taken);
    this.taken = all.length;
    return fresh;
  }

  /** PDUs written since the last call, decoded (throws if the bytes are not whole, valid PDUs). */
  takePdus(): Pdu[] {
    return decodeAll(this.takeWritten());
  }
}

/** Two sockets wired to each other: what one writes, the other reads. */
export function memorySocketPair(
  a: MemorySocketOptions = { remoteAddress: '127.0.0.1', remotePort: 40001 },
  b: MemorySocketOptions = { remoteAddress: '127.0.0.1', remotePort: 2775 },
): [MemorySocket, MemorySocket] {
  const left = new MemorySocket(a);
  const right = new MemorySocket(b);
  left.peer = right;
  right.peer = left;
  return [left, right];
}

/** Splits bytes into PDUs by command_length and decodes each; any bad byte fails the test. */
export function decodeAll(bytes: Buffer): Pdu[] {
  const framer = new Framer();
  framer.push(bytes);
  const pdus: Pdu[] = [];
  for (;;) {
    const next = framer.next();
    if (next === undefined) break;
    if (!next.ok) throw next.error;
    const decoded = decodePdu(next.frame);
    if (!decoded.ok) throw decoded.error;
    pdus.push(decoded.pdu);
  }
  if (framer.buffered > 0) throw new Error(`${framer.buffered} octets left that are not a whole PDU`);
  return pdus;
}

/**
 * Lets queued stream events, nextTick and promise callbacks run (no timers, no sleeping): a few
 * turns of the event loop's check phase, enough for a write to reach the peer and be answered.
 */
export async function settle(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
}
