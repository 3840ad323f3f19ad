/**
 * The collector's durable store. SQLite (better-sqlite3, WAL) through Kysely; the query layer
 * uses only Kysely's portable builders so a PostgreSQL dialect can be added by writing another
 * `open…Store` beside this one.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, sql } from 'kysely';
import { migrationProvider } from './migrations.js';
import type { Database } from './schema.js';

export interface Store {
  db: Kysely<Database>;
  dialect: 'sqlite';
  /** Where the data lives, for messages. */
  location: string;
  close(): Promise<void>;
}

export const SQLITE_FILE = 'collector.sqlite';

export interface OpenStoreOptions {
  /** How long a writer waits for another process's lock (the CLI enrolling an agent) before failing. */
  busyTimeoutMs?: number;
}

/** Opens (creating if needed) the SQLite store in dataDir and brings its schema up to date. */
export async function openStore(dataDir: string, options: OpenStoreOptions = {}): Promise<Store> {
  const file = join(dataDir, SQLITE_FILE);
  let database: SqliteDatabase.Database;
  try {
    mkdirSync(dataDir, { recursive: true });
    database = new SqliteDatabase(file);
  } catch (cause) {
    throw new Error(`cannot open the collector store ${file}: ${(cause as Error).message}`, { cause });
  }
  database.pragma('journal_mode = WAL');
  // Check results are evidence and are acknowledged to the agent once committed, after which the
  // agent deletes them: FULL makes a commit survive power loss, not only a process crash.
  database.pragma('synchronous = FULL');
  database.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
  database.pragma('foreign_keys = ON');

  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  const store: Store = { db, dialect: 'sqlite', location: file, close: () => db.destroy() };
  try {
    await migrate(store);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return store;
}

export async function migrate(store: Store): Promise<void> {
  const migrator = new Migrator({ db: store.db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? '(unknown)';
    throw new Error(`collector store ${store.location}: migration ${failed} failed: ${String(error)}`, {
      cause: error,
    });
  }
}

/** Resolves when the store answers a trivial query; rejects otherwise. */
export async function pingStore(store: Store): Promise<void> {
  await sql`select 1`.execute(store.db);
}
