// Side by side with Debian's prometheus-postgres-exporter (0.11) on the same PostgreSQL 15: the
// names both should share exist in both with compatible labels, and database sizes and backend
// counts agree.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, hasServer, type PgServer, startPostgres } from '../../../test/helpers/postgres.js';
import { freePort } from '../../../test/helpers/processes.js';
import { createPostgresCollector } from './collector.js';
import { capturedLog, collectOnce, samples } from './test-kit.js';

const EXPORTER = '/usr/bin/prometheus-postgres-exporter';
const available = existsSync(EXPORTER) && hasServer(15);

/** The postgres_exporter names the agent promises to keep. */
const SHARED = [
  'pg_up',
  'pg_static',
  'pg_database_size_bytes',
  'pg_locks_count',
  'pg_stat_activity_count',
  'pg_stat_activity_max_tx_duration',
  'pg_stat_archiver_archived_count',
  'pg_stat_archiver_failed_count',
  'pg_settings_max_connections',
  'pg_settings_superuser_reserved_connections',
  'pg_settings_autovacuum_freeze_max_age',
  ...[
    'numbackends',
    'xact_commit',
    'xact_rollback',
    'blks_read',
    'blks_hit',
    'tup_returned',
    'tup_fetched',
    'tup_inserted',
    'tup_updated',
    'tup_deleted',
    'conflicts',
    'temp_files',
    'temp_bytes',
    'deadlocks',
    'blk_read_time',
    'blk_write_time',
    'stats_reset',
  ].map((c) => `pg_stat_database_${c}`),
  ...[
    'checkpoints_timed',
    'checkpoints_req',
    'checkpoint_write_time',
    'checkpoint_sync_time',
    'buffers_checkpoint',
    'buffers_clean',
    'maxwritten_clean',
    'buffers_backend',
    'buffers_backend_fsync',
    'buffers_alloc',
    'stats_reset',
  ].map((c) => `pg_stat_bgwriter_${c}_total`),
];

interface Parsed {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Enough of the text exposition for exporter output (no escaped quotes in these labels). */
export function parseExposition(text: string): Parsed[] {
  const out: Parsed[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

describe.runIf(available)('beside prometheus-postgres-exporter', () => {
  let server: PgServer;
  let exporter: ChildProcess;
  let url: string;

  beforeAll(async () => {
    server = await startPostgres({ major: 15 });
    await server.query('CREATE DATABASE credit');
    await server.query(
      "CREATE TABLE subjects AS SELECT g AS id, repeat('x', 100) AS name FROM generate_series(1, 20000) g",
      [],
      'credit',
    );
    const port = await freePort();
    url = `http://127.0.0.1:${port}/metrics`;
    exporter = spawn(EXPORTER, [`--web.listen-address=127.0.0.1:${port}`], {
      env: {
        ...process.env,
        DATA_SOURCE_NAME: `postgresql://postgres@127.0.0.1:${server.port}/postgres?sslmode=disable`,
      },
      stdio: 'ignore',
    });
    await eventually('postgres_exporter to listen', async () => {
      try {
        return (await fetch(url)).ok;
      } catch {
        return false;
      }
    });
  }, 60_000);

  afterAll(async () => {
    exporter?.kill();
    await server?.stop();
  });

  it('shares the names, with the exporter’s labels, and agrees on sizes and backends', async () => {
    const { log } = capturedLog();
    const collector = createPostgresCollector(
      {
        servers: [
          {
            name: 'main',
            host: '127.0.0.1',
            port: server.port,
            user: 'postgres',
            database: 'postgres',
            sslmode: 'disable',
            includeDatabases: [],
            excludeDatabases: [],
          },
        ],
      },
      { log, env: {} },
    );
    try {
      // Both hold one connection open while the other one scrapes.
      await collectOnce(collector, log);
      const theirs = parseExposition(await (await fetch(url)).text());
      const ours = await collectOnce(collector, log);

      const missing: string[] = [];
      for (const name of SHARED) {
        const t = theirs.filter((s) => s.name === name);
        const o = samples(ours, name);
        if (t.length === 0 || o.length === 0) {
          missing.push(`${name}: exporter ${t.length}, agent ${o.length}`);
          continue;
        }
        // The agent's labels are the exporter's plus `server` (which 0.11 also puts on pg_static).
        const theirLabels = Object.keys(t[0]!.labels)
          .filter((l) => l !== 'server')
          .sort();
        const ourLabels = Object.keys(o[0]!.labels)
          .filter((l) => l !== 'server')
          .sort();
        expect(ourLabels, name).toEqual(theirLabels);
      }
      expect(missing).toEqual([]);

      for (const datname of ['postgres', 'credit', 'template1']) {
        const t = theirs.find(
          (s) => s.name === 'pg_database_size_bytes' && s.labels.datname === datname,
        )!.value;
        const o = samples(ours, 'pg_database_size_bytes', { datname })[0]!.value;
        expect(Math.abs(o - t) / t, datname).toBeLessThan(0.01);
      }
      // Backends: the same per database, give or take the two monitors' own connections.
      for (const datname of ['postgres', 'credit']) {
        const t = theirs.find(
          (s) => s.name === 'pg_stat_database_numbackends' && s.labels.datname === datname,
        )!.value;
        const o = samples(ours, 'pg_stat_database_numbackends', { datname })[0]!.value;
        expect(Math.abs(o - t), datname).toBeLessThanOrEqual(1);
      }
      const total = (list: { value: number }[]) => list.reduce((a, s) => a + s.value, 0);
      const theirActivity = total(theirs.filter((s) => s.name === 'pg_stat_activity_count'));
      const ourActivity = total(samples(ours, 'pg_stat_activity_count'));
      // The exporter counts its own session; the agent leaves its own out.
      expect(Math.abs(theirActivity - ourActivity)).toBeLessThanOrEqual(2);
    } finally {
      await collector.close();
    }
  });
});
