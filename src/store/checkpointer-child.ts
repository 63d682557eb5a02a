/**
 * The checkpoint child (forked by checkpointer.ts): its own connection to the store's database,
 * which copies the WAL into the database file on request, so neither the copy nor its fsyncs run
 * on the service's event loop. Protocol (IPC): it sends `{ ready: true }` once open, answers
 * `{ id }` with `{ id, busy, log, checkpointed, ms }` (or `{ id, error }`), and exits when the
 * channel closes: the parent closed the store, or died (then nothing must survive it).
 *
 * synchronous=NORMAL is what keeps the WAL restart safe. The writer's WalSync made frames durable
 * in the WAL only; the writer restarts the WAL (overwrites it from the start) only once a
 * checkpoint backfilled every frame. A PASSIVE checkpoint with synchronous=NORMAL fsyncs the WAL
 * before it copies, and fsyncs the database after it copied the whole WAL (only then can the WAL
 * restart: with frames left over it leaves the database unsynced, and the next complete one syncs
 * it). So no frame is overwritten before its page is durable in the database. With
 * synchronous=OFF the copy would not be synced and a power loss after a restart would lose commits.
 */
import { openDatabase, prepare } from './sqlite-native.js';

interface Request {
  id: number;
}

const path = process.argv[2];
if (path === undefined || process.send === undefined) {
  process.stderr.write('checkpointer-child: needs the database path and an IPC channel\n');
  process.exit(2);
}
/** A message to the parent; a parent gone (EPIPE) means exit, as the disconnect does. */
function send(message: object): void {
  if (!process.connected) {
    shutdown();
    return;
  }
  process.send?.(message, undefined, {}, (error: Error | null) => {
    if (error) shutdown();
  });
}

const db = openDatabase(path);
db.exec('PRAGMA busy_timeout = 1000');
db.exec('PRAGMA synchronous = NORMAL');
// It never writes, but if it did, it must not checkpoint on its own.
db.exec('PRAGMA wal_autocheckpoint = 0');
const checkpoint = prepare(db, 'PRAGMA wal_checkpoint(PASSIVE)');

let closed = false;
function shutdown(): void {
  if (closed) return;
  closed = true;
  // Never the last connection while the store is open: closing does not checkpoint here.
  db.close();
  process.exit(0);
}
process.on('disconnect', shutdown);
process.on('SIGTERM', shutdown);

process.on('message', (message: Request) => {
  const startedAt = performance.now();
  try {
    const row = checkpoint.get() as { busy: number; log: number; checkpointed: number };
    send({ id: message.id, ...row, ms: performance.now() - startedAt });
  } catch (error) {
    send({ id: message.id, error: error instanceof Error ? error.message : String(error) });
  }
});

send({ ready: true });
