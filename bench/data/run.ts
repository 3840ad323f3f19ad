/**
 * bench/data: every data check of examples/credit-db/creditops-agent.yaml over a generated month of
 * 1,000,000 records in a real PostgreSQL 17, against the default collection interval (5 minutes).
 * Reports the wall time of each collection (the first cold, then warm), the agent's CPU and memory
 * (the process peak RSS includes the generated data held in the same process), and the load on the
 * database: statements and rows from pg_stat_statements, tuples read from pg_stat_database, buffers
 * hit and read.
 *
 *   npm run bench:data -- [--records 1000000] [--rounds 3]
 *
 * Writes bench/results/data.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Value } from '@sinclair/typebox/value';
import { pino } from 'pino';
import { parse } from 'yaml';
import { CreditDataCollector } from '../../agent/collectors/credit-data/collector.js';
import {
  type CreditDataOptions,
  CreditDataOptionsSchema,
} from '../../agent/collectors/credit-data/options.js';
import type { Verdict } from '../../agent/collectors/types.js';
import { generate, loadInto } from '../../examples/credit-db/generate.js';
import { MetricRegistry } from '../../lib/metrics.js';
import { startPostgres } from '../../test/helpers/postgres.js';

const { values } = parseArgs({
  options: { records: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '3' } },
});
const RECORDS = Number(values.records);
const ROUNDS = Number(values.rounds);
const INTERVAL_SECONDS = 300;
const log = pino({ level: 'error' });
const say = (s: string) => process.stderr.write(`${s}\n`);

const server = await startPostgres({
  major: 17,
  settings: { shared_preload_libraries: 'pg_stat_statements', shared_buffers: '256MB', work_mem: '64MB' },
});
try {
  await server.query('CREATE DATABASE credit');
  let t = performance.now();
  const g = generate({ seed: 42, records: RECORDS, month: '2026-11' });
  say(`generated ${RECORDS} records in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  t = performance.now();
  await loadInto(g, server.connection('credit'));
  say(`loaded in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const truth = g.truth;
  const size = (
    await server.query<{ size: string }>("SELECT pg_size_pretty(pg_database_size('credit')) AS size")
  )[0]!.size;
  await server.query('CREATE EXTENSION pg_stat_statements', [], 'credit');

  const yaml = parse(
    readFileSync(new URL('../../examples/credit-db/creditops-agent.yaml', import.meta.url), 'utf8'),
  ).collectors.creditdata as Record<string, unknown>;
  delete yaml.intervalSeconds;
  delete yaml.timeoutSeconds;
  yaml.database = {
    ...(yaml.database as object),
    host: '127.0.0.1',
    port: server.port,
    user: 'postgres',
    passwordEnv: undefined,
  };
  const options = Value.Default(
    CreditDataOptionsSchema,
    Value.Clean(CreditDataOptionsSchema, yaml),
  ) as CreditDataOptions;
  const collector = new CreditDataCollector(options, log);

  const dbStats = async () =>
    (
      await server.query<Record<string, string>>(
        "SELECT tup_returned, tup_fetched, blks_hit, blks_read FROM pg_stat_database WHERE datname = 'credit'",
      )
    )[0]!;
  const rounds: Record<string, unknown>[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    await server.query('SELECT pg_stat_statements_reset()', [], 'credit');
    await server.query('SELECT pg_stat_reset()', [], 'credit');
    await new Promise((r) => setTimeout(r, 600)); // the statistics collector flushes at most every 500 ms
    const before = await dbStats();
    const cpu = process.cpuUsage();
    const started = performance.now();
    const registry = new MetricRegistry();
    const verdicts: Verdict[] = [];
    await collector.collect({
      procRoot: '/proc',
      sysRoot: '/sys',
      rootfs: '/',
      registry,
      signal: new AbortController().signal,
      now: () => Date.parse(truth.now),
      log,
      report: (v) => verdicts.push(v),
    });
    const wall = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    await new Promise((r) => setTimeout(r, 1200));
    const after = await dbStats();
    const statements = await server.query<{
      calls: string;
      rows: string;
      ms: string;
      hit: string;
      read: string;
    }>(
      `SELECT sum(calls) AS calls, sum(rows) AS rows, sum(total_exec_time) AS ms,
              sum(shared_blks_hit) AS hit, sum(shared_blks_read) AS read
       FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
       WHERE d.datname = 'credit' AND query NOT ILIKE '%pg_stat%' AND query NOT ILIKE 'SET %'
         AND query NOT ILIKE 'BEGIN%' AND query NOT ILIKE 'ROLLBACK%' AND query NOT ILIKE '%SAVEPOINT%'`,
      [],
      'credit',
    );
    const s = statements[0]!;
    const unknown = verdicts.filter((v) => v.status === 'UNKNOWN');
    const row = {
      round,
      wallSeconds: Number(wall.toFixed(2)),
      shareOfInterval: Number((wall / INTERVAL_SECONDS).toFixed(4)),
      agentCpuSeconds: Number(((used.user + used.system) / 1e6).toFixed(2)),
      processPeakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
      queries: Number(s.calls),
      rowsReturned: Number(s.rows),
      dbExecutionSeconds: Number((Number(s.ms) / 1000).toFixed(2)),
      sharedBlocksHit: Number(s.hit),
      sharedBlocksRead: Number(s.read),
      tupReturned: Number(after.tup_returned) - Number(before.tup_returned),
      tupFetched: Number(after.tup_fetched) - Number(before.tup_fetched),
      verdicts: verdicts.length,
      unknownVerdicts: unknown.map((v) => `${v.check}/${v.target}: ${v.summary}`),
    };
    rounds.push(row);
    say(JSON.stringify(row));
  }
  await collector.close();
  const result = {
    benchmark: 'data checks of examples/credit-db/creditops-agent.yaml',
    records: RECORDS,
    databaseSize: size,
    postgres: 17,
    intervalSeconds: INTERVAL_SECONDS,
    machine: { cpus: (await import('node:os')).cpus().length, loadavg: (await import('node:os')).loadavg() },
    rounds,
  };
  const out = fileURLToPath(new URL('../results/data.json', import.meta.url));
  mkdirSync(fileURLToPath(new URL('../results/', import.meta.url)), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  say(`wrote ${out}`);
} finally {
  await server.stop();
}
