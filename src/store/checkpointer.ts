/**
 * WAL checkpoints off the event loop. SQLite's automatic checkpoint (every 1000 WAL pages) runs
 * inside a COMMIT on the writer: it copies the WAL into the database file and fsyncs it, which
 * blocked the event loop 15–65 ms (bench/messages, bench/inbound). Here the writer runs with
 * `wal_autocheckpoint = 0` and a child process (checkpointer-child.ts: its own connection, a
 * `PRAGMA wal_checkpoint(PASSIVE)` per request) does the copying. Not a worker thread: on Node 24
 * a thread that loaded better-sqlite3 aborts the process at exit (better-sqlite3 #1515).
 *
 * When: after each commit the writer reads the WAL index header from the `-shm` file (one pread
 * of 136 bytes, a few µs): `mxFrame` (frames in the WAL) and `nBackfill` (frames already copied).
 * Once the WAL holds `thresholdFrames` (SQLite's default, 1000) it asks the child; one request in
 * flight at a time. The child is forked when the WAL first reaches half that (most stores never
 * grow a WAL; forking blocks the loop some ms, once).
 *
 * The restart: SQLite starts the WAL over only when a write transaction begins with every frame
 * backfilled. Under steady writes a concurrent checkpoint never gets there (commits land while it
 * copies), and the WAL would grow forever. So the first checkpoint of a WAL runs alongside the
 * writes and copies the bulk; if the WAL has not restarted when it answers, the next one is gated:
 * the group commit starts no transaction until it answered (the loop runs on; writes wait while
 * it copies what came during the first, a few ms), and the next BEGIN restarts the WAL.
 *
 * Failure is loud and bounded: if the child cannot start, exits, errs, holds the gate longer than
 * `gateTimeoutMs`, or the WAL passes `hardLimitFactor` × the threshold, the writer checkpoints
 * itself again (`wal_autocheckpoint` back on, one warning) and a new child is tried after a
 * backoff (1 s doubling to 1 min). The child exits when its IPC channel closes, so it never
 * outlives the process; `close()` stops it and waits (bounded).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { closeSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { endianness } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';

export type CheckpointMode = 'child' | 'inline';

/** What the store's logger needs (pino's signature). */
export interface CheckpointLog {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface CheckpointResult {
  /** 1 when the checkpoint could not get its lock (another checkpoint ran). */
  busy: number;
  /** Frames in the WAL when it ran. */
  log: number;
  /** Frames copied into the database (all of them so far, not only by this run). */
  checkpointed: number;
  /** How long the child took, ms. */
  ms: number;
}

export interface CheckpointStats {
  /** Checkpoints the child answered. */
  checkpoints: number;
  /** Of those, how many held the writer's next transaction (to let the WAL restart). */
  gated: number;
  /** Time the child spent checkpointing, ms, and the longest one. */
  totalMs: number;
  longestMs: number;
  /** Times the writer went back to checkpointing itself. */
  fallbacks: number;
  /** Children forked so far. */
  spawns: number;
}

export interface CheckpointerOptions {
  /** The database file (its `-shm` holds the WAL index). */
  path: string;
  /** Sets the writer's `wal_autocheckpoint` (0: the child checkpoints; else SQLite in COMMIT). */
  setAutocheckpoint(frames: number): void;
  log: CheckpointLog;
  /** Frames in the WAL that ask for a checkpoint. default 1000 (SQLite's). */
  thresholdFrames?: number;
  /** The WAL passing threshold × this means checkpoints do not keep up: fall back. default 16. */
  hardLimitFactor?: number;
  /** Longest a gated checkpoint may hold the writer before the child is given up. default 2000. */
  gateTimeoutMs?: number;
  /** First wait before forking a new child after a failure; doubles up to maxRespawnBackoffMs. */
  respawnBackoffMs?: number;
  maxRespawnBackoffMs?: number;
  /** How long close() waits for the child to exit before SIGKILL. default 2000. */
  closeTimeoutMs?: number;
  /** Monotonic ms (tests). default performance.now. */
  now?: () => number;
}

export const DEFAULT_CHECKPOINT_THRESHOLD_FRAMES = 1000;

const WAL_INDEX_VERSION = 3007000;
/** WalIndexHdr (48 bytes, twice) then WalCkptInfo: sqlite.org/walformat.html. */
const SHM_HEADER_BYTES = 136;
const MX_FRAME_OFFSET = 16;
const N_BACKFILL_OFFSET = 96;

const HERE = import.meta.url;
/** From dist/ the compiled child; from the sources (vitest, tsx) the .ts one, run through tsx. */
const FROM_SOURCES = HERE.endsWith('.ts');
const CHILD_MODULE = fileURLToPath(
  new URL(FROM_SOURCES ? './checkpointer-child.ts' : './checkpointer-child.js', HERE),
);

function childExecArgv(): string[] {
  if (!FROM_SOURCES) return [];
  return ['--import', pathToFileURL(createRequire(HERE).resolve('tsx')).href];
}

type ChildMessage = { ready: true } | ({ id: number } & CheckpointResult) | { id: number; error: string };

export class Checkpointer {
  private readonly threshold: number;
  private readonly gateTimeoutMs: number;
  /** The first wait before a new child; backoffMs doubles from it after each failure. */
  private readonly firstBackoffMs: number;
  private readonly hardLimit: number;
  private readonly now: () => number;
  private readonly little: boolean;
  private readonly header = Buffer.alloc(SHM_HEADER_BYTES);
  private shmFd: number | undefined;
  private child: ChildProcess | undefined;
  private ready = false;
  private inFlight: { id: number; gated: boolean } | undefined;
  private nextId = 1;
  /** Checkpoints answered since the WAL last restarted (the next one after the first is gated). */
  private sinceRestart = 0;
  private lastMxFrame = 0;
  private gate: { promise: Promise<void>; release(): void; timer: NodeJS.Timeout } | undefined;
  /** 'inline': the writer checkpoints (fallback) until retryAt, then a new child is tried. */
  private mode: CheckpointMode = 'child';
  private retryAt = 0;
  private backoffMs: number;
  private closed = false;
  private readonly counters: CheckpointStats = {
    checkpoints: 0,
    gated: 0,
    totalMs: 0,
    longestMs: 0,
    fallbacks: 0,
    spawns: 0,
  };

  constructor(private readonly options: CheckpointerOptions) {
    this.threshold = options.thresholdFrames ?? DEFAULT_CHECKPOINT_THRESHOLD_FRAMES;
    this.hardLimit = this.threshold * (options.hardLimitFactor ?? 16);
    this.now = options.now ?? (() => performance.now());
    this.gateTimeoutMs = options.gateTimeoutMs ?? 2000;
    this.firstBackoffMs = options.respawnBackoffMs ?? 1000;
    this.backoffMs = this.firstBackoffMs;
    this.little = endianness() === 'LE';
  }

  /** Call after each commit: cheap unless a checkpoint is due. Never throws (the commit is done). */
  afterCommit(): void {
    if (this.closed) return;
    try {
      this.check();
    } catch (error) {
      this.options.log.warn({ err: error }, `store: the WAL checkpoint check failed: ${errorText(error)}`);
    }
  }

  private check(): void {
    const wal = this.readWalIndex();
    if (wal === undefined) return;
    if (this.mode === 'inline') {
      // SQLite checkpoints in COMMIT meanwhile; try a child again once the backoff passed.
      if (this.child === undefined && this.now() >= this.retryAt) this.spawn();
      return;
    }
    if (wal.mxFrame >= this.hardLimit) {
      this.fallBack(
        `the WAL holds ${wal.mxFrame} frames (bound ${this.hardLimit}): checkpoints do not keep up`,
      );
      return;
    }
    if (wal.mxFrame < this.lastMxFrame) this.sinceRestart = 0; // the WAL restarted
    this.lastMxFrame = wal.mxFrame;
    // Below the threshold, or all copied (the next transaction restarts the WAL), or one in flight.
    // Forked at half the threshold, so it is ready by the time the first checkpoint is due.
    if (this.child === undefined && wal.mxFrame >= this.threshold / 2) this.spawn();
    if (wal.mxFrame < this.threshold || wal.nBackfill >= wal.mxFrame || this.inFlight !== undefined) return;
    if (this.child === undefined || !this.ready) return;
    this.request(this.sinceRestart > 0);
  }

  /** While a gated checkpoint runs: the promise the next transaction waits for. */
  waitForGate(): Promise<void> | undefined {
    return this.gate?.promise;
  }

  stats(): CheckpointStats {
    return { ...this.counters };
  }

  /** The child's pid while one runs (tests). */
  childPid(): number | undefined {
    return this.child?.pid;
  }

  /** Where checkpoints run now. */
  currentMode(): CheckpointMode {
    return this.mode;
  }

  /** Stops the child (waits for it, bounded). The writer closes after this (SQLite checkpoints then). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.releaseGate();
    const child = this.child;
    this.child = undefined;
    if (child !== undefined) await stopChild(child, this.options.closeTimeoutMs ?? 2000);
    if (this.shmFd !== undefined) closeSync(this.shmFd);
    this.shmFd = undefined;
  }

  private readWalIndex(): { mxFrame: number; nBackfill: number } | undefined {
    try {
      this.shmFd ??= openSync(`${this.options.path}-shm`, 'r');
      if (readSync(this.shmFd, this.header, 0, SHM_HEADER_BYTES, 0) < SHM_HEADER_BYTES) return undefined;
    } catch {
      return undefined; // no -shm yet
    }
    const u32 = (offset: number) =>
      this.little ? this.header.readUInt32LE(offset) : this.header.readUInt32BE(offset);
    if (u32(0) !== WAL_INDEX_VERSION) {
      if (this.mode !== 'inline') this.fallBack(`unknown WAL index version ${u32(0)}`);
      this.retryAt = Number.POSITIVE_INFINITY;
      return undefined;
    }
    return { mxFrame: u32(MX_FRAME_OFFSET), nBackfill: u32(N_BACKFILL_OFFSET) };
  }

  private spawn(): void {
    this.counters.spawns++;
    let child: ChildProcess;
    try {
      child = fork(CHILD_MODULE, [this.options.path], {
        execArgv: childExecArgv(),
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        serialization: 'json',
      });
    } catch (error) {
      this.fallBack(`the checkpoint child could not start: ${errorText(error)}`);
      return;
    }
    this.child = child;
    this.ready = false;
    // The store does not keep the process alive; the child exits when the channel closes.
    child.unref();
    child.channel?.unref();
    child.on('message', (message: ChildMessage) => this.onMessage(child, message));
    child.on('error', (error) => {
      if (this.child === child) this.fallBack(`the checkpoint child failed: ${error.message}`);
    });
    child.on('exit', (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.fallBack(`the checkpoint child exited (${signal ?? `code ${code}`})`);
    });
  }

  private onMessage(child: ChildProcess, message: ChildMessage): void {
    if (this.child !== child || this.closed) return;
    if ('ready' in message) {
      this.ready = true;
      if (this.mode === 'inline') {
        this.mode = 'child';
        this.options.setAutocheckpoint(0);
        this.options.log.debug({ pid: child.pid }, 'store: WAL checkpoints run in a child process again');
      }
      this.afterCommit();
      return;
    }
    const inFlight = this.inFlight;
    if (inFlight === undefined || inFlight.id !== message.id) return;
    this.inFlight = undefined;
    if ('error' in message) {
      this.fallBack(`the checkpoint failed: ${message.error}`);
      return;
    }
    this.releaseGate();
    this.backoffMs = this.firstBackoffMs;
    const c = this.counters;
    c.checkpoints++;
    this.sinceRestart++;
    if (inFlight.gated) c.gated++;
    c.totalMs += message.ms;
    if (message.ms > c.longestMs) c.longestMs = message.ms;
    this.options.log.debug(
      {
        busy: message.busy,
        log: message.log,
        checkpointed: message.checkpointed,
        ms: message.ms,
        gated: inFlight.gated,
      },
      'store: WAL checkpoint',
    );
    this.afterCommit();
  }

  private request(gated: boolean): void {
    const child = this.child;
    if (child === undefined) return;
    const id = this.nextId++;
    this.inFlight = { id, gated };
    if (gated) {
      let release!: () => void;
      const promise = new Promise<void>((resolve) => {
        release = resolve;
      });
      const timer = setTimeout(() => {
        this.fallBack(`a checkpoint held the writer over ${this.gateTimeoutMs} ms`);
      }, this.gateTimeoutMs);
      this.gate = { promise, release, timer };
    }
    try {
      child.send({ id });
    } catch (error) {
      this.fallBack(`the checkpoint child is unreachable: ${errorText(error)}`);
    }
  }

  private releaseGate(): void {
    const gate = this.gate;
    if (gate === undefined) return;
    this.gate = undefined;
    clearTimeout(gate.timer);
    gate.release();
  }

  /** The writer checkpoints itself again; one warning; a new child after the backoff. */
  private fallBack(reason: string): void {
    this.releaseGate();
    this.inFlight = undefined;
    const child = this.child;
    this.child = undefined;
    this.ready = false;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    if (this.closed) return;
    this.retryAt = this.now() + this.backoffMs;
    const retryInMs = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.options.maxRespawnBackoffMs ?? 60_000);
    if (this.mode === 'inline') return;
    this.mode = 'inline';
    this.counters.fallbacks++;
    this.options.setAutocheckpoint(this.threshold);
    this.options.log.warn(
      { reason, retryInMs },
      `store: WAL checkpoints back on the writer (the event loop): ${reason}; a new checkpoint process in ${retryInMs} ms`,
    );
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Closes the channel (the child closes its connection and exits); SIGKILL after timeoutMs. */
async function stopChild(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (child.connected) child.disconnect();
  else child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    await exited;
  } finally {
    clearTimeout(killer);
  }
}
