/**
 * The agent's connections to one monitored PostgreSQL server. At most `maxConnections` exist at
 * once, whatever the server does: a connection whose query has not returned yet (the collector
 * gave up on it at its deadline) stays counted until the query ends, so a slow server never makes
 * the agent pile up connections. Every connection carries statement_timeout and lock_timeout, so a
 * stuck query ends on the server side and frees its connection. Failed connection attempts back
 * off exponentially, per database.
 */
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import type { Logger } from 'pino';

export interface ServerTarget {
  /** How this server is named in labels and verdicts. */
  name: string;
  /** A host name, an IP address or a unix socket directory. */
  host: string;
  port: number;
  user: string;
  /** The database the cluster-wide queries run in. */
  database: string;
  /** Environment variable holding the password. */
  passwordEnv?: string | undefined;
  /** File holding the password (first line). Preferred over passwordEnv when both are set. */
  passwordFile?: string | undefined;
  sslmode: 'disable' | 'require' | 'verify-full';
}

export interface SessionOptions {
  maxConnections: number;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  lockTimeoutMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  applicationName: string;
  now: () => number;
  log: Logger;
  /** Where passwords in environment variables are read from. */
  env: NodeJS.ProcessEnv;
}

/** Rows come back as node-postgres gives them (int8 and numeric as strings). */
export type Row = Record<string, unknown>;

/** The rows of the statements of a batch up to the first one PostgreSQL refused. */
export interface BatchResult {
  /** The rows of each statement that completed, in order. */
  results: Row[][];
  /** Why statement `results.length` failed (a PostgreSQL error); the statements after it did not run. */
  error?: Error;
}

export interface Queryer {
  query(sql: string, params?: unknown[]): Promise<Row[]>;
  /**
   * Runs parameterless statements (no `;` inside) in one simple-protocol message: one round trip,
   * one implicit transaction, statement_timeout and lock_timeout still applying to each statement.
   * A PostgreSQL error ends the batch and is returned with the rows of the statements before it;
   * any other error (a broken connection) is thrown.
   */
  batch(statements: string[]): Promise<BatchResult>;
}

/** Every connection slot is held by a query that has not returned yet. */
export class PostgresBusyError extends Error {}

/** A recent connection attempt failed; the next one waits until `retryAt`. */
export class PostgresBackoffError extends Error {
  constructor(
    message: string,
    readonly retryAt: number,
    readonly lastError: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

interface Slot {
  client: pg.Client;
  database: string;
  busy: boolean;
  dead: boolean;
}

interface Backoff {
  failures: number;
  retryAt: number;
  error: string;
  code: string | undefined;
}

interface RowDescription {
  fields: { name: string; dataTypeID: number }[];
}

/**
 * A node-postgres Submittable for StatementBatch. pg's own Query reports only the error when a
 * statement of a multi-statement query fails, and drops the rows of those before it; this one
 * keeps them, so a failing statement spoils only itself.
 */
class StatementBatch {
  readonly results: Row[][] = [];
  private names: string[] = [];
  private parsers: ((text: string) => unknown)[] = [];
  private rows: Row[] = [];

  constructor(
    private readonly text: string,
    private readonly done: (error: Error | undefined) => void,
  ) {}

  submit(connection: pg.Connection): void {
    connection.query(this.text);
  }

  handleRowDescription(msg: RowDescription): void {
    this.names = msg.fields.map((f) => f.name);
    // The simple protocol always answers in text format.
    this.parsers = msg.fields.map((f) => pg.types.getTypeParser(f.dataTypeID, 'text'));
    this.rows = [];
  }

  handleDataRow(msg: { fields: (string | null)[] }): void {
    const row: Row = {};
    for (let i = 0; i < msg.fields.length; i++) {
      const raw = msg.fields[i];
      row[this.names[i]!] = raw === null || raw === undefined ? null : this.parsers[i]!(raw);
    }
    this.rows.push(row);
  }

  handleCommandComplete(): void {
    this.results.push(this.rows);
    this.rows = [];
  }

  handleEmptyQuery(): void {}

  /** Ends the batch: node-postgres calls nothing else after an error. */
  handleError(error: Error): void {
    this.done(error);
  }

  handleReadyForQuery(): void {
    this.done(undefined);
  }
}

/** The SQLSTATE of a PostgreSQL error, if it is one. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

export class ServerSession {
  private readonly slots: Slot[] = [];
  private readonly backoff = new Map<string, Backoff>();
  /** Total connection attempts, for tests and the connections metric. */
  connectAttempts = 0;

  constructor(
    readonly target: ServerTarget,
    private readonly options: SessionOptions,
  ) {}

  /** Connections currently open (busy or idle). */
  openConnections(): number {
    return this.slots.length;
  }

  busyConnections(): number {
    return this.slots.filter((s) => s.busy).length;
  }

  /**
   * Runs `work` on a connection to `database`. Reuses an idle one, opens one while under the
   * limit, or replaces an idle connection to another database; throws PostgresBusyError when
   * every slot is held by an unfinished query, without opening anything.
   */
  async withConnection<T>(database: string, work: (q: Queryer) => Promise<T>): Promise<T> {
    const slot = await this.acquire(database);
    const q: Queryer = {
      query: async (sql, params) =>
        (await slot.client.query(sql, params as unknown[] | undefined)).rows as Row[],
      batch: (statements) =>
        new Promise<BatchResult>((resolve, reject) => {
          const batch = new StatementBatch(statements.join(';\n'), (error) => {
            if (error && !sqlState(error)) reject(error);
            else if (error) resolve({ results: batch.results, error });
            else if (batch.results.length !== statements.length)
              reject(
                new Error(
                  `a batch of ${statements.length} statements returned ${batch.results.length} results`,
                ),
              );
            else resolve({ results: batch.results });
          });
          slot.client.query(batch);
        }),
    };
    try {
      return await work(q);
    } catch (error) {
      // A PostgreSQL error leaves the connection usable; anything else (socket closed, protocol
      // error) does not.
      if (!sqlState(error)) this.discard(slot);
      throw error;
    } finally {
      slot.busy = false;
      if (slot.dead) this.discard(slot);
    }
  }

  async close(): Promise<void> {
    const slots = this.slots.splice(0);
    await Promise.allSettled(slots.map((s) => s.client.end()));
  }

  private async acquire(database: string): Promise<Slot> {
    const idle = this.slots.find((s) => !s.busy && !s.dead && s.database === database);
    if (idle) {
      idle.busy = true;
      return idle;
    }
    if (this.slots.length >= this.options.maxConnections) {
      const other = this.slots.find((s) => !s.busy);
      if (!other) {
        throw new PostgresBusyError(
          `all ${this.options.maxConnections} connection(s) to ${this.target.name} are busy with a query that has not returned`,
        );
      }
      this.discard(other);
    }
    const wait = this.backoff.get(database);
    const now = this.options.now();
    if (wait && now < wait.retryAt) {
      throw new PostgresBackoffError(
        `not reconnecting to ${this.target.name}/${database} for ${Math.ceil((wait.retryAt - now) / 1000)} s after ${wait.failures} failure(s): ${wait.error}`,
        wait.retryAt,
        wait.error,
        wait.code,
      );
    }
    // Reserve the slot before the first await so concurrent callers count it.
    const slot: Slot = {
      client: new pg.Client(await this.clientConfig(database)),
      database,
      busy: true,
      dead: false,
    };
    if (this.slots.length >= this.options.maxConnections) {
      throw new PostgresBusyError(
        `all ${this.options.maxConnections} connection(s) to ${this.target.name} are in use`,
      );
    }
    this.slots.push(slot);
    slot.client.on('error', (error) => {
      slot.dead = true;
      this.options.log.warn(
        { server: this.target.name, database, error: error.message },
        'postgres connection lost',
      );
      if (!slot.busy) this.discard(slot);
    });
    slot.client.on('end', () => {
      slot.dead = true;
      if (!slot.busy) this.discard(slot);
    });
    this.connectAttempts++;
    try {
      await slot.client.connect();
    } catch (error) {
      this.discard(slot);
      const previous = this.backoff.get(database);
      const failures = (previous?.failures ?? 0) + 1;
      const delay = Math.min(this.options.backoffMaxMs, this.options.backoffInitialMs * 2 ** (failures - 1));
      const message = error instanceof Error ? error.message : String(error);
      this.backoff.set(database, {
        failures,
        retryAt: this.options.now() + delay,
        error: message,
        code: sqlState(error),
      });
      throw error;
    }
    this.backoff.delete(database);
    return slot;
  }

  private discard(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    slot.dead = true;
    slot.client.end().catch(() => {
      // Ending an already broken connection fails; the socket is gone either way.
    });
  }

  private async clientConfig(database: string): Promise<pg.ClientConfig> {
    const t = this.target;
    const password = await this.password();
    return {
      host: t.host,
      port: t.port,
      user: t.user,
      database,
      ...(password === undefined ? {} : { password }),
      application_name: this.options.applicationName,
      connectionTimeoutMillis: this.options.connectTimeoutMs,
      statement_timeout: this.options.statementTimeoutMs,
      lock_timeout: this.options.lockTimeoutMs,
      // The monitoring role never writes; a mistake in a query cannot change the database.
      options: '-c default_transaction_read_only=on',
      ...(t.sslmode === 'disable'
        ? {}
        : {
            ssl: t.sslmode === 'verify-full' ? { rejectUnauthorized: true } : { rejectUnauthorized: false },
          }),
    };
  }

  private async password(): Promise<string | undefined> {
    const t = this.target;
    if (t.passwordFile) {
      try {
        return (await readFile(t.passwordFile, 'utf8')).split('\n')[0]!.replace(/\r$/, '');
      } catch (error) {
        throw new Error(`cannot read the password file of server ${t.name} (${t.passwordFile})`, {
          cause: error,
        });
      }
    }
    if (t.passwordEnv) {
      const value = this.options.env[t.passwordEnv];
      if (value === undefined)
        throw new Error(`environment variable ${t.passwordEnv} (password of server ${t.name}) is not set`);
      return value;
    }
    return undefined;
  }
}
