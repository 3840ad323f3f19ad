// The PostgreSQL collector against real servers 14, 15, 17 and 18 (started in parallel), a
// streaming standby built with pg_basebackup, and a server made slow by a lock the test holds.
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  hasServer,
  type PgMajor,
  type PgServer,
  startPostgres,
  startPostgresAll,
} from '../../../test/helpers/postgres.js';
import { CollectorRunner } from '../../runner.js';
import type { Collector } from '../types.js';
import { createPostgresCollector, type PostgresOptions, postgres } from './collector.js';
import { capturedLog, collectOnce, samples, value, verdictOf } from './test-kit.js';

const MAJORS = ([14, 15, 17, 18] as PgMajor[]).filter(hasServer);
const PASSWORD = 'Mon-itor#pw-4821';
const secrets = mkdtempSync(join(tmpdir(), 'creditops-pg-secret-'));
const passwordFile = join(secrets, 'monitor.password');
writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });

const servers = new Map<PgMajor, PgServer>();

async function prepare(s: PgServer): Promise<void> {
  await s.query(`CREATE ROLE creditops_monitor LOGIN PASSWORD '${PASSWORD}'`);
  await s.query('GRANT pg_monitor TO creditops_monitor');
  // The grants README.md documents for the pg_hba.conf check.
  await s.query('GRANT SELECT ON pg_catalog.pg_hba_file_rules TO creditops_monitor');
  await s.query('GRANT EXECUTE ON FUNCTION pg_catalog.pg_hba_file_rules() TO creditops_monitor');
  await s.query('CREATE DATABASE credit');
  await s.query('CREATE DATABASE secret');
  await s.query('REVOKE CONNECT ON DATABASE secret FROM PUBLIC');
  await s.query(
    `CREATE TABLE subjects (id int PRIMARY KEY, name text);
     INSERT INTO subjects SELECT g, 'subject ' || g FROM generate_series(1, 5000) g;
     CREATE TABLE small (x int); INSERT INTO small VALUES (1);
     DELETE FROM subjects WHERE id <= 3000;
     ANALYZE;`,
    [],
    'credit',
  );
  await s.query('CREATE TABLE hidden (x int); ANALYZE', [], 'secret');
}

beforeAll(async () => {
  const started = await startPostgresAll(
    MAJORS.map((major) => ({
      major,
      settings: { autovacuum: 'off' },
      hbaFirst: ['host all creditops_monitor 127.0.0.1/32 scram-sha-256'],
    })),
  );
  for (const s of started) servers.set(s.major, s);
  await Promise.all(started.map(prepare));
}, 60_000);

afterAll(async () => {
  await Promise.all([...servers.values()].map((s) => s.stop()));
  rmSync(secrets, { recursive: true, force: true });
});

function monitorOptions(s: PgServer, extra: Partial<PostgresOptions> = {}): Partial<PostgresOptions> {
  return {
    servers: [
      {
        name: `pg${s.major}`,
        host: '127.0.0.1',
        port: s.port,
        user: 'creditops_monitor',
        database: 'postgres',
        passwordFile,
        sslmode: 'disable',
        includeDatabases: [],
        excludeDatabases: [],
      },
    ],
    largestTables: 5,
    perDatabaseIntervalSeconds: 0,
    thresholds: { bloatMinDeadTuples: 100 } as PostgresOptions['thresholds'],
    ...extra,
  };
}

async function agentConnections(s: PgServer): Promise<number> {
  const rows = await s.query<{ n: string }>(
    "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'creditops-agent'",
  );
  return Number(rows[0]!.n);
}

describe('descriptor', () => {
  it('is named postgres, watches nothing by default, and rejects a server named twice', async () => {
    expect(postgres.name).toBe('postgres');
    const { log } = capturedLog();
    const idle = postgres.create({} as PostgresOptions, { log });
    const result = await collectOnce(idle, log);
    expect(result.families).toEqual([]);
    const s = { name: 'a', host: '/tmp', port: 5432, user: 'u', database: 'd' };
    expect(() => createPostgresCollector({ servers: [s, s] as PostgresOptions['servers'] }, { log })).toThrow(
      /server name "a" is used twice/,
    );
  });
});

describe.each(MAJORS)('PostgreSQL %i as a pg_monitor role', (major) => {
  let collector: ReturnType<typeof createPostgresCollector>;
  let logged: ReturnType<typeof capturedLog>;

  beforeAll(() => {
    logged = capturedLog();
    collector = createPostgresCollector(monitorOptions(servers.get(major)!), { log: logged.log, env: {} });
  });
  afterAll(async () => collector.close());

  it('exports postgres_exporter metrics, skips the database it may not CONNECT to, and judges', async () => {
    const s = servers.get(major)!;
    const server = `pg${major}`;
    const r = await collectOnce(collector, logged.log);

    expect(value(r, 'pg_up', { server })).toBe(1);
    expect(value(r, 'creditops_postgres_scrape_success', { server })).toBe(0); // "secret" was skipped
    expect(samples(r, 'pg_static')[0]!.labels.short_version).toMatch(new RegExp(`^${major}\\.`));
    for (const datname of ['postgres', 'credit', 'secret']) {
      expect(value(r, 'pg_database_size_bytes', { datname })).toBeGreaterThan(1_000_000);
      expect(value(r, 'pg_stat_database_xact_commit', { datname })).toBeGreaterThanOrEqual(0);
      expect(value(r, 'pg_database_wraparound_age_datfrozenxid_seconds', { datname })).toBeGreaterThan(0);
    }
    expect(samples(r, 'pg_stat_activity_count', { datname: 'credit' }).map((x) => x.labels.state)).toContain(
      'idle in transaction',
    );
    expect(samples(r, 'pg_locks_count', { datname: 'postgres' })).toHaveLength(9);
    expect(value(r, 'pg_locks_count', { datname: 'postgres', mode: 'accesssharelock' })).toBeGreaterThan(0);
    expect(value(r, 'pg_replication_is_replica')).toBe(0);
    expect(value(r, 'pg_replication_lag_seconds')).toBe(0);
    expect(value(r, 'pg_settings_max_connections')).toBe(40);
    expect(value(r, 'pg_stat_bgwriter_buffers_alloc_total')).toBeGreaterThan(0);
    if (major >= 17) {
      expect(samples(r, 'pg_stat_bgwriter_checkpoints_timed_total')).toEqual([]);
      expect(samples(r, 'pg_stat_checkpointer_num_timed_total')).toHaveLength(1);
    } else {
      expect(samples(r, 'pg_stat_bgwriter_checkpoints_timed_total')).toHaveLength(1);
      expect(samples(r, 'pg_stat_checkpointer_num_timed_total')).toEqual([]);
    }
    for (const f of r.families) {
      for (const x of f.samples) expect(x.labels.server, `${f.name} has the server label`).toBe(server);
    }
    expect(samples(r, 'creditops_postgres_query_success').filter((x) => x.value === 0)).toEqual([]);

    // The largest tables of "credit", nothing of "secret", and the skip as a metric and a log line.
    expect(value(r, 'pg_stat_user_tables_n_live_tup', { datname: 'credit', relname: 'subjects' })).toBe(2000);
    expect(samples(r, 'pg_stat_user_tables_n_live_tup', { datname: 'secret' })).toEqual([]);
    expect(
      value(r, 'creditops_postgres_database_skipped', { datname: 'secret', reason: 'no_connect_privilege' }),
    ).toBe(1);
    expect(samples(r, 'creditops_postgres_database_skipped', { datname: 'credit' })).toEqual([]);
    expect(
      logged.lines.some(
        (l) => l.msg === 'database skipped: its tables are not examined' && l.datname === 'secret',
      ),
    ).toBe(true);

    // Verdicts, with the reason in Chinese and a title and remediation.
    expect(verdictOf(r, 'postgres.up')?.status).toBe('OK');
    expect(verdictOf(r, 'postgres.connections')?.status).toBe('OK');
    expect(verdictOf(r, 'postgres.wraparound')?.status).toBe('OK');
    expect(verdictOf(r, 'postgres.waiting_locks')?.status).toBe('OK');
    expect(verdictOf(r, 'postgres.archiver')?.summary).toContain('archive_mode = off');
    const bloat = verdictOf(r, 'postgres.bloat')!;
    expect(bloat.status).toBe('CRIT'); // 3000 dead of 5000
    expect(JSON.stringify(bloat.details)).toContain('credit.public.subjects');
    const hba = verdictOf(r, 'postgres.security.hba')!;
    expect(hba.status).toBe('CRIT'); // initdb -A trust
    expect(hba.summary).toMatch(/trust/);
    expect(verdictOf(r, 'postgres.security.roles_without_password')?.status).toBe('UNKNOWN');
    expect(verdictOf(r, 'postgres.security.superusers')?.status).toBe('OK');
    expect(verdictOf(r, 'postgres.security.password_encryption')?.status).toBe('OK');
    expect(verdictOf(r, 'postgres.security.logging')?.summary).toContain('logging_collector 未开启');
    expect(verdictOf(r, 'postgres.security.file_modes')?.status).toBe('OK');
    for (const v of r.verdicts) {
      expect(v.summary, v.check).toMatch(/\p{Script=Han}/u);
      expect(v.details?.title, v.check).toMatch(/\p{Script=Han}/u);
      expect(v.details?.remediation, v.check).toMatch(/\p{Script=Han}/u);
    }

    // One connection at a time, and the password never in the log.
    expect(collector.session(server)!.openConnections()).toBeLessThanOrEqual(1);
    expect(await agentConnections(s)).toBeLessThanOrEqual(1);
    expect(logged.text()).not.toContain(PASSWORD);
  });

  it.runIf(major >= 17)('sees the checkpointer counters rise after a CHECKPOINT', async () => {
    const s = servers.get(major)!;
    const before = await collectOnce(collector, logged.log);
    const requested = value(before, 'pg_stat_checkpointer_num_requested_total');
    await s.query('CHECKPOINT');
    await eventually('num_requested to rise', async () => {
      const after = await collectOnce(collector, logged.log);
      return value(after, 'pg_stat_checkpointer_num_requested_total') > requested;
    });
    if (major >= 18) {
      const after = await collectOnce(collector, logged.log);
      expect(value(after, 'pg_stat_checkpointer_num_done_total')).toBeGreaterThan(0);
    }
  });
});

describe('security baseline as a superuser', () => {
  it.runIf(MAJORS.includes(15))(
    'finds a role without password, a second superuser and loose file modes',
    async () => {
      const s = servers.get(15)!;
      await s.query('CREATE ROLE nopw LOGIN');
      await s.query("CREATE ROLE admin2 LOGIN SUPERUSER PASSWORD 'x-Admin-2-x'");
      chmodSync(join(s.dataDir, 'pg_hba.conf'), 0o644);
      const { log } = capturedLog();
      const options = monitorOptions(s);
      options.servers = [{ ...options.servers![0]!, user: 'postgres', passwordFile: undefined }];
      const collector = createPostgresCollector(options, { log, env: {} });
      try {
        const r = await collectOnce(collector, log);
        const noPassword = verdictOf(r, 'postgres.security.roles_without_password')!;
        expect(noPassword.status).toBe('WARN');
        expect(noPassword.summary).toContain('nopw');
        expect(noPassword.summary).not.toContain('postgres'); // the bootstrap superuser is exempt
        expect(verdictOf(r, 'postgres.security.superusers')?.status).toBe('WARN');
        const modes = verdictOf(r, 'postgres.security.file_modes')!;
        expect(modes.status).toBe('WARN');
        expect(modes.summary).toContain('pg_hba.conf 为 0644');
        // A superuser sees every database: nothing skipped.
        expect(samples(r, 'creditops_postgres_database_skipped')).toEqual([]);
        expect(value(r, 'pg_stat_user_tables_n_live_tup', { datname: 'secret', relname: 'hidden' })).toBe(0);
      } finally {
        chmodSync(join(s.dataDir, 'pg_hba.conf'), 0o600);
        await s.query('DROP ROLE nopw');
        await s.query('DROP ROLE admin2');
        await collector.close();
      }
    },
  );
});

describe.each(([14, 15] as PgMajor[]).filter((m) => MAJORS.includes(m)))(
  'a streaming standby of PostgreSQL %i built with pg_basebackup',
  (major) => {
    let standby: PgServer;
    beforeAll(async () => {
      standby = await startPostgres({ major, standbyOf: servers.get(major)! });
    }, 60_000);
    afterAll(async () => standby?.stop());

    it('reports replication on both sides, and lag 0 in seconds and bytes once caught up with an idle primary', async () => {
      const primary = servers.get(major)!;
      await primary.query(
        'CREATE TABLE replicated AS SELECT g FROM generate_series(1, 10000) g',
        [],
        'credit',
      );
      const { log } = capturedLog();
      const onPrimary = createPostgresCollector(monitorOptions(primary), { log, env: {} });
      const onStandby = createPostgresCollector(
        {
          ...monitorOptions(standby),
          servers: [{ ...monitorOptions(standby).servers![0]!, name: 'standby' }],
        },
        { log, env: {} },
      );
      try {
        let p = await collectOnce(onPrimary, log);
        let st = await collectOnce(onStandby, log);
        await eventually(
          'the standby to replay everything',
          async () => {
            p = await collectOnce(onPrimary, log);
            st = await collectOnce(onStandby, log);
            return (
              samples(p, 'pg_stat_replication_pg_wal_lsn_diff').some((x) => x.value === 0) &&
              value(st, 'creditops_postgres_replication_lag_bytes') === 0
            );
          },
          30_000,
        );
        expect(value(st, 'pg_replication_is_replica')).toBe(1);
        expect(value(st, 'pg_replication_lag_seconds')).toBe(0);
        expect(value(st, 'creditops_postgres_replication_lag_bytes')).toBe(0);
        expect(value(st, 'creditops_postgres_wal_receiver_streaming')).toBe(1);
        expect(value(st, 'pg_replication_last_replay_seconds')).toBeGreaterThanOrEqual(0);
        const stream = samples(p, 'pg_stat_replication_pg_wal_lsn_diff');
        expect(stream).toHaveLength(1);
        expect(stream[0]!.labels.state).toBe('streaming');
        expect(value(p, 'creditops_postgres_standby_replay_lag_seconds')).toBe(0);
        expect(value(p, 'pg_stat_replication_pg_current_wal_lsn_bytes')).toBeGreaterThan(0);
        expect(verdictOf(st, 'postgres.replication_lag')?.status).toBe('OK');
        expect(verdictOf(p, 'postgres.replication_lag')?.status).toBe('OK');
        // The standby's tables come through replication too.
        expect(samples(st, 'pg_stat_user_tables_n_live_tup', { datname: 'credit' }).length).toBeGreaterThan(
          0,
        );
      } finally {
        await Promise.all([onPrimary.close(), onStandby.close()]);
      }
    });
  },
);

describe('replication slots', () => {
  it.runIf(MAJORS.includes(17))('an inactive slot retaining WAL is reported', async () => {
    const s = servers.get(17)!;
    await s.query("SELECT pg_create_physical_replication_slot('forgotten', true)");
    await s.query('CREATE TABLE churn AS SELECT g FROM generate_series(1, 200000) g', [], 'credit');
    await s.query('SELECT pg_switch_wal()');
    const { log } = capturedLog();
    const c = createPostgresCollector(
      monitorOptions(s, { thresholds: { inactiveSlotWarnBytes: 1024 } as PostgresOptions['thresholds'] }),
      { log, env: {} },
    );
    try {
      const r = await collectOnce(c, log);
      expect(value(r, 'pg_replication_slots_active', { slot_name: 'forgotten' })).toBe(0);
      expect(value(r, 'pg_replication_slots_pg_wal_lsn_diff', { slot_name: 'forgotten' })).toBeGreaterThan(
        1024,
      );
      expect(
        value(r, 'pg_replication_slots_wal_status', { slot_name: 'forgotten', wal_status: 'reserved' }),
      ).toBe(1);
      const v = verdictOf(r, 'postgres.replication_slots')!;
      expect(v.status).toBe('WARN');
      expect(v.summary).toContain('forgotten');
    } finally {
      await s.query("SELECT pg_drop_replication_slot('forgotten')");
      await c.close();
    }
  });
});

describe('a server that does not answer', () => {
  it('is pg_up 0 with a CRIT verdict, and is not retried before the backoff expires', async () => {
    const { log, lines } = capturedLog();
    let now = 1_000_000;
    const c = createPostgresCollector(
      {
        servers: [
          {
            name: 'gone',
            host: '127.0.0.1',
            port: 1,
            user: 'creditops_monitor',
            database: 'postgres',
            passwordEnv: 'PGPW',
            sslmode: 'disable',
            includeDatabases: [],
            excludeDatabases: [],
          },
        ],
      },
      { log, env: { PGPW: PASSWORD }, now: () => now },
    );
    const first = await collectOnce(c, log);
    expect(value(first, 'pg_up', { server: 'gone' })).toBe(0);
    const v = verdictOf(first, 'postgres.up', 'gone')!;
    expect(v.status).toBe('CRIT');
    expect(v.summary).toContain('ECONNREFUSED');
    expect(c.session('gone')!.connectAttempts).toBe(1);
    await collectOnce(c, log);
    expect(c.session('gone')!.connectAttempts).toBe(1); // backing off
    now += 1500;
    await collectOnce(c, log);
    expect(c.session('gone')!.connectAttempts).toBe(2);
    expect(JSON.stringify(lines)).not.toContain(PASSWORD);
    await c.close();
  });
});

describe('a slow server', () => {
  it.runIf(MAJORS.includes(17))(
    'never gets a second connection while a query is stuck behind a lock, and other collectors keep their schedule',
    async () => {
      const s = servers.get(17)!;
      const { log, lines } = capturedLog();
      // Long server-side timeouts so the query outlives the scrape deadline by far.
      const c = createPostgresCollector(
        monitorOptions(s, {
          scrapeTimeoutSeconds: 1,
          statementTimeoutSeconds: 30,
          lockTimeoutSeconds: 30,
          perDatabaseIntervalSeconds: 3600,
        }),
        { log, env: {} },
      );
      let ticks = 0;
      const tick: Collector = {
        async collect(ctx) {
          ticks++;
          ctx.registry.gauge('tick', 'x').value(ticks);
        },
      };
      const runner = new CollectorRunner({
        collectors: [
          { name: 'postgres', intervalMs: 200, timeoutMs: 3000, collector: c },
          { name: 'tick', intervalMs: 100, timeoutMs: 1000, collector: tick },
        ],
        roots: { procRoot: '/proc', sysRoot: '/sys', rootfs: '/' },
        log,
      });
      let holder: pg.Client | undefined;
      try {
        // pg_hba_file_rules is a view over a function: locking it blocks the security queries
        // and nothing else (connection start-up does not read it).
        holder = await s.client();
        await holder.query('BEGIN');
        await holder.query('LOCK TABLE pg_catalog.pg_hba_file_rules IN ACCESS EXCLUSIVE MODE');
        runner.start();
        const counts: number[] = [];
        const startTicks = ticks;
        const until = Date.now() + 4000;
        while (Date.now() < until) {
          counts.push(await agentConnections(s));
          await new Promise((r) => setTimeout(r, 150));
        }
        expect(Math.max(...counts)).toBe(1);
        expect(c.session('pg17')!.openConnections()).toBe(1);
        expect(c.session('pg17')!.connectAttempts).toBe(1);
        expect(ticks - startTicks).toBeGreaterThanOrEqual(25); // every 100 ms for 4 s
        expect(
          lines.some(
            (l) =>
              l.msg ===
              'postgres scrape did not finish in time; its queries keep their connection until statement_timeout',
          ),
        ).toBe(true);
        expect(
          lines.some(
            (l) => l.msg === 'previous scrape of this server has not finished; not starting another',
          ),
        ).toBe(true);
        const stuck = runner.families().find((f) => f.name === 'pg_up')!;
        expect(stuck.samples[0]!.value).toBe(0);

        await holder.query('COMMIT');
        await eventually('a complete scrape after the lock is released', async () => {
          const up = runner.families().find((f) => f.name === 'creditops_postgres_scrape_success');
          return up?.samples[0]?.value === 1;
        });
        expect(await agentConnections(s)).toBe(1);
      } finally {
        await runner.stop();
        await holder?.end();
      }
      expect(await agentConnections(s)).toBe(0);
    },
  );

  it.runIf(MAJORS.includes(17))(
    'a statement refused in the middle of the batched queries spoils only its own group',
    async () => {
      const s = servers.get(17)!;
      const { log, lines } = capturedLog();
      const c = createPostgresCollector(monitorOptions(s, { lockTimeoutSeconds: 0.3 }), { log, env: {} });
      const holder = await s.client();
      try {
        await holder.query('BEGIN');
        // stat_archiver runs between stat_database and stat_bgwriter in one multi-statement query.
        await holder.query('LOCK TABLE pg_catalog.pg_stat_archiver IN ACCESS EXCLUSIVE MODE');
        // The first scrape learns the version; the second sends the version query in the batch too.
        for (const scrape of [1, 2]) {
          const r = await collectOnce(c, log);
          expect(value(r, 'pg_up'), `scrape ${scrape}`).toBe(1);
          expect(value(r, 'creditops_postgres_scrape_success')).toBe(0);
          const failedGroups = samples(r, 'creditops_postgres_query_success')
            .filter((x) => x.value === 0)
            .map((x) => x.labels.query);
          expect(failedGroups).toEqual(['stat_archiver']);
          for (const query of [
            'settings',
            'stat_database',
            'replication_slots',
            'stat_bgwriter',
            'stat_checkpointer',
          ])
            expect(value(r, 'creditops_postgres_query_success', { query })).toBe(1);
          expect(samples(r, 'pg_stat_archiver_archived_count')).toEqual([]);
          expect(value(r, 'pg_stat_database_xact_commit', { datname: 'credit' })).toBeGreaterThan(0);
          expect(value(r, 'pg_stat_bgwriter_buffers_alloc_total')).toBeGreaterThan(0);
          expect(value(r, 'pg_stat_checkpointer_num_timed_total')).toBeGreaterThanOrEqual(0);
          expect(verdictOf(r, 'postgres.archiver')).toBeUndefined();
          expect(verdictOf(r, 'postgres.waiting_locks')?.status).toBe('OK');
        }
        expect(lines.filter((l) => l.msg === 'postgres query failed').map((l) => [l.query, l.code])).toEqual([
          ['stat_archiver', '55P03'],
          ['stat_archiver', '55P03'],
        ]);
        expect(c.session('pg17')!.openConnections()).toBeLessThanOrEqual(1);
      } finally {
        await holder.query('ROLLBACK');
        await holder.end();
        await c.close();
      }
    },
  );

  it.runIf(MAJORS.includes(17))(
    'a lock that outlasts lock_timeout spoils only its own query group',
    async () => {
      const s = servers.get(17)!;
      const { log, lines } = capturedLog();
      const c = createPostgresCollector(monitorOptions(s, { lockTimeoutSeconds: 0.3 }), { log, env: {} });
      const holder = await s.client();
      try {
        await holder.query('BEGIN');
        await holder.query('LOCK TABLE pg_catalog.pg_hba_file_rules IN ACCESS EXCLUSIVE MODE');
        const r = await collectOnce(c, log);
        expect(value(r, 'pg_up')).toBe(1);
        expect(value(r, 'creditops_postgres_query_success', { query: 'security' })).toBe(0);
        expect(value(r, 'creditops_postgres_query_success', { query: 'stat_database' })).toBe(1);
        expect(lines.find((l) => l.msg === 'postgres query failed')?.code).toBe('55P03');
      } finally {
        await holder.query('ROLLBACK');
        await holder.end();
        await c.close();
      }
    },
  );
});
