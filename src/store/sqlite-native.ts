/**
 * The only way this code base makes better-sqlite3 objects: connections and prepared statements
 * that are never garbage-collected while Node runs.
 *
 * Why: better-sqlite3 12 wraps its native objects (Database, Statement, StatementIterator, Backup)
 * in `node::ObjectWrap`. From Node 24 on, that header registers an environment cleanup hook per
 * object and its destructor removes it with `RemoveEnvironmentCleanupHook`, which needs the
 * current Node context. When V8 collects such an object in a GC it started itself (an allocation
 * that needs room, an idle-time GC) no context is current, and the process aborts:
 * `Assertion failed: (env) != nullptr` in `Statement::~Statement`. A `gc()` called from JS does
 * not show it; a few thousand allocations after a statement became garbage do. Closing the
 * database does not help: it finalizes the SQLite statement, but the JS wrapper still dies later.
 * (better-sqlite3 13 drops ObjectWrap, but needs Node >= 22; this project supports Node 20.)
 *
 * So every native object made here is kept, for the life of the process, in `RETAINED`: Node
 * deletes them itself when the environment is torn down at exit, where a context is current.
 * The cost is small and bounded by what the code prepares: once a store is closed, each retained
 * statement is a finalized shell of a few hundred bytes, and a store prepares each distinct SQL
 * text once (sqlite-store.ts caches them per connection).
 *
 * Rules for code that uses better-sqlite3: open with `openDatabase`, prepare with `prepare`, and
 * never call `db.pragma()`, `db.transaction()`, `stmt.iterate()` or `db.backup()`: each creates
 * native objects of its own that would become garbage (use `prepare` for a pragma that answers,
 * `db.exec` for one that does not, and BEGIN/COMMIT through `db.exec`).
 */
import Database from 'better-sqlite3';

const RETAINED: object[] = [];

/** How many native objects are kept (tests read it). */
export function retainedNativeObjects(): number {
  return RETAINED.length;
}

/** Opens a connection that is kept for the life of the process (close it as usual). */
export function openDatabase(path: string, options?: Database.Options): Database.Database {
  const db = new Database(path, options);
  RETAINED.push(db);
  return db;
}

/** Prepares a statement that is kept for the life of the process. */
export function prepare(db: Database.Database, sql: string): Database.Statement {
  const statement = db.prepare(sql);
  RETAINED.push(statement);
  return statement;
}
