/**
 * The restore test: the newest dump of a set is restored into a scratch database, configured
 * sanity queries are run on it (and, to compare, on the source database), and the scratch
 * database is dropped whatever happened. The outcome, its reason and its duration are the
 * evidence that "last night's backup restores".
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import pg from 'pg';
import { describeFailure, runTool } from './child.js';
import type { BackupEntry } from './scan.js';
import type { BackupKind } from './verify.js';

export interface Connection {
  host: string;
  port: number;
  user: string;
  database: string;
  passwordEnv?: string | undefined;
  passwordFile?: string | undefined;
}

export interface SanityCheck {
  /** Shown in evidence, e.g. "信用主体数". */
  name: string;
  /** A query returning one number (first column of the first row). */
  sql: string;
  /** Run `sql` on the source database too and require the values to agree within `tolerance`. */
  compareWithSource: boolean;
  /** Allowed relative difference to the source, e.g. 0.02 for 2 %. */
  tolerance: number;
  /** The restored value must be at least this. */
  min?: number | undefined;
}

export interface RestoreTestConfig {
  /** Where the scratch database is created (a role with CREATEDB). */
  scratch: Connection;
  /** The database the dump was taken from, for comparisons. */
  source?: Connection | undefined;
  checks: SanityCheck[];
  timeoutMs: number;
  scratchPrefix: string;
  pgBinDir: string;
}

export interface CheckOutcome {
  name: string;
  restored?: number;
  source?: number;
  ok: boolean;
  reason?: string;
}

export interface RestoreOutcome {
  ok: boolean;
  /** Chinese, one sentence. */
  reason: string;
  file: string;
  startedAt: number;
  durationSeconds: number;
  database: string;
  checks: CheckOutcome[];
  dropped: boolean;
}

async function password(c: Connection, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  if (c.passwordFile) return (await readFile(c.passwordFile, 'utf8')).split('\n')[0]!.replace(/\r$/, '');
  if (c.passwordEnv) {
    const v = env[c.passwordEnv];
    if (v === undefined) throw new Error(`environment variable ${c.passwordEnv} is not set`);
    return v;
  }
  return undefined;
}

async function connect(c: Connection, database: string, env: NodeJS.ProcessEnv): Promise<pg.Client> {
  const pw = await password(c, env);
  const client = new pg.Client({
    host: c.host,
    port: c.port,
    user: c.user,
    database,
    ...(pw === undefined ? {} : { password: pw }),
    application_name: 'creditops-restore-test',
    connectionTimeoutMillis: 10_000,
  });
  await client.connect();
  return client;
}

async function scalar(client: pg.Client, sql: string): Promise<number> {
  const r = await client.query(sql);
  const row = r.rows[0] as Record<string, unknown> | undefined;
  const first = row ? Object.values(row)[0] : undefined;
  const n = Number(first);
  if (first === undefined || first === null || !Number.isFinite(n)) {
    throw new Error(`query returned ${JSON.stringify(first)} instead of a number`);
  }
  return n;
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Scratch database names: prefix, set, time; only [a-z0-9_], at most 63 bytes. */
export function scratchName(prefix: string, set: string, at: number): string {
  const stamp = new Date(at).toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${prefix}${set}_${stamp}`
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 63);
}

export async function restoreTest(
  set: string,
  kind: BackupKind,
  entry: BackupEntry,
  config: RestoreTestConfig,
  deps: { env: NodeJS.ProcessEnv; now: () => number; signal?: AbortSignal },
): Promise<RestoreOutcome> {
  const startedAt = deps.now();
  const t0 = performance.now();
  const database = scratchName(config.scratchPrefix, set, startedAt);
  const outcome: RestoreOutcome = {
    ok: false,
    reason: '',
    file: entry.path,
    startedAt,
    durationSeconds: 0,
    database,
    checks: [],
    dropped: false,
  };
  const s = config.scratch;
  let admin: pg.Client | undefined;
  try {
    admin = await connect(s, s.database, deps.env);
    await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)}`);
    await admin.query(`CREATE DATABASE ${quoteIdent(database)}`);

    const pw = await password(s, deps.env);
    // The password goes to the child through its environment, never its command line.
    const env = {
      PGHOST: s.host,
      PGPORT: String(s.port),
      PGUSER: s.user,
      ...(pw === undefined ? {} : { PGPASSWORD: pw }),
    };
    const bin = (name: string) => (config.pgBinDir ? join(config.pgBinDir, name) : name);
    const common = { timeoutMs: config.timeoutMs, env, signal: deps.signal };
    const result =
      kind === 'pg_dump_custom'
        ? await runTool(
            bin('pg_restore'),
            ['--no-owner', '--no-privileges', '--exit-on-error', '--dbname', database, entry.path],
            common,
          )
        : await runTool(bin('psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '--dbname', database, '-f', '-'], {
            ...common,
            stdin:
              kind === 'pg_dump_gzip'
                ? createReadStream(entry.path).pipe(createGunzip())
                : createReadStream(entry.path),
          });
    if (result.code !== 0) {
      outcome.reason = `恢复失败：${describeFailure(kind === 'pg_dump_custom' ? 'pg_restore' : 'psql', result, config.timeoutMs)}`;
      return outcome;
    }

    const restored = await connect(s, database, deps.env);
    const source =
      config.source && config.checks.some((c) => c.compareWithSource)
        ? await connect(config.source, config.source.database, deps.env)
        : undefined;
    try {
      for (const check of config.checks) {
        const o: CheckOutcome = { name: check.name, ok: true };
        try {
          o.restored = await scalar(restored, check.sql);
          if (check.min !== undefined && o.restored < check.min) {
            o.ok = false;
            o.reason = `恢复后为 ${o.restored}，低于下限 ${check.min}`;
          }
          if (o.ok && check.compareWithSource) {
            if (!source) throw new Error('no source connection configured');
            o.source = await scalar(source, check.sql);
            const diff = Math.abs(o.restored - o.source) / Math.max(Math.abs(o.source), 1);
            if (diff > check.tolerance) {
              o.ok = false;
              o.reason = `恢复后为 ${o.restored}，源库为 ${o.source}，相差 ${(diff * 100).toFixed(1)}%，超过允许的 ${(check.tolerance * 100).toFixed(1)}%`;
            }
          }
        } catch (error) {
          o.ok = false;
          o.reason = `查询失败：${error instanceof Error ? error.message : String(error)}`;
        }
        outcome.checks.push(o);
      }
    } finally {
      await restored.end().catch(() => {});
      await source?.end().catch(() => {});
    }
    const failed = outcome.checks.filter((c) => !c.ok);
    outcome.ok = failed.length === 0;
    outcome.reason = outcome.ok
      ? `恢复成功，${outcome.checks.length} 项核对全部通过。`
      : `恢复成功但核对未通过：${failed.map((c) => `${c.name}（${c.reason}）`).join('；')}。`;
    return outcome;
  } catch (error) {
    outcome.reason = `恢复测试出错：${error instanceof Error ? error.message : String(error)}`;
    return outcome;
  } finally {
    if (admin) {
      try {
        // FORCE (13+) ends sessions a killed pg_restore may have left behind.
        await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(database)} WITH (FORCE)`);
        outcome.dropped = true;
      } catch (error) {
        outcome.reason += `（临时库 ${database} 删除失败：${error instanceof Error ? error.message : String(error)}）`;
      }
      await admin.end().catch(() => {});
    }
    outcome.durationSeconds = (performance.now() - t0) / 1000;
  }
}
