/**
 * The PostgreSQL collector: postgres_exporter's default metric names (pg_up, pg_stat_database_*,
 * pg_stat_activity_count, pg_locks_count, pg_replication_*, pg_stat_replication_*,
 * pg_replication_slots_*, pg_stat_archiver_*, pg_stat_bgwriter_*, pg_stat_checkpointer_* on 17+,
 * pg_database_size_bytes, pg_database_wraparound_*, pg_stat_user_tables_* for the largest tables),
 * each sample labelled with the configured `server`, plus creditops_postgres_* for what the
 * exporter lacks, and the DBA checks of ./checks.ts as verdicts.
 *
 * Servers are scraped in parallel, each bounded by scrapeTimeoutSeconds: a slow server yields
 * pg_up 0 and a verdict for itself and leaves the others alone. Its unfinished queries keep their
 * connection until statement_timeout ends them; meanwhile that server is not scraped again and no
 * further connection is opened to it (see ./session.ts).
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Logger } from 'pino';
import { type Labels, MetricRegistry } from '../../../lib/metrics.js';
import type { CollectContext, Collector, CollectorDescriptor, Verdict } from '../types.js';
import {
  archiverVerdict,
  bloatVerdict,
  connectionsVerdict,
  idleInTransactionVerdict,
  longTransactionVerdict,
  type PostgresRole,
  type ReplicationFacts,
  replicationVerdict,
  roleInventoryVerdict,
  type SecurityFacts,
  type SessionFacts,
  securityVerdicts,
  slotsVerdict,
  type TableFacts,
  type Thresholds,
  verdict,
  waitingLocksVerdict,
  wraparoundVerdict,
} from './checks.js';
import * as Q from './queries.js';
import {
  type BatchResult,
  PostgresBackoffError,
  PostgresBusyError,
  type Queryer,
  type Row,
  ServerSession,
  sqlState,
} from './session.js';

const ServerSchema = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 100,
      pattern: '^[A-Za-z0-9_.:-]+$',
      description: 'Label value `server` of every sample and target of every verdict.',
    }),
    host: Type.String({
      minLength: 1,
      default: '/var/run/postgresql',
      description: 'Host, IP or unix socket directory.',
    }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 5432 }),
    user: Type.String({ minLength: 1, default: 'creditops_monitor' }),
    database: Type.String({
      minLength: 1,
      default: 'postgres',
      description: 'Where cluster-wide queries run.',
    }),
    passwordEnv: Type.Optional(
      Type.String({ minLength: 1, description: 'Environment variable holding the password.' }),
    ),
    passwordFile: Type.Optional(
      Type.String({ minLength: 1, description: 'File whose first line is the password.' }),
    ),
    sslmode: Type.Union([Type.Literal('disable'), Type.Literal('require'), Type.Literal('verify-full')], {
      default: 'disable',
    }),
    includeDatabases: Type.Array(Type.String(), {
      default: [],
      description: 'Databases whose tables are examined; empty: all but templates.',
    }),
    excludeDatabases: Type.Array(Type.String(), { default: [] }),
    filesOnThisHost: Type.Optional(
      Type.Boolean({
        description:
          'Whether the data directory and configuration files can be checked from here. Default: when host is a socket or loopback.',
      }),
    ),
  },
  { additionalProperties: false },
);

const ThresholdsSchema = Type.Object(
  {
    connectionsWarnRatio: Type.Number({ minimum: 0, maximum: 1, default: 0.8 }),
    connectionsCritRatio: Type.Number({ minimum: 0, maximum: 1, default: 0.95 }),
    wraparoundWarnRatio: Type.Number({ minimum: 0, maximum: 1, default: 0.3 }),
    wraparoundCritRatio: Type.Number({ minimum: 0, maximum: 1, default: 0.6 }),
    longTransactionWarnSeconds: Type.Number({ minimum: 0, default: 600 }),
    longTransactionCritSeconds: Type.Number({ minimum: 0, default: 3600 }),
    idleInTransactionWarnSeconds: Type.Number({ minimum: 0, default: 300 }),
    idleInTransactionCritSeconds: Type.Number({ minimum: 0, default: 1800 }),
    lockWaitWarnSeconds: Type.Number({ minimum: 0, default: 30 }),
    lockWaitCritSeconds: Type.Number({ minimum: 0, default: 300 }),
    replicationLagWarnSeconds: Type.Number({ minimum: 0, default: 60 }),
    replicationLagCritSeconds: Type.Number({ minimum: 0, default: 600 }),
    replicationLagWarnBytes: Type.Number({ minimum: 0, default: 64 * 2 ** 20 }),
    replicationLagCritBytes: Type.Number({ minimum: 0, default: 2 ** 30 }),
    inactiveSlotWarnBytes: Type.Number({ minimum: 0, default: 2 ** 30 }),
    inactiveSlotCritBytes: Type.Number({ minimum: 0, default: 10 * 2 ** 30 }),
    bloatWarnRatio: Type.Number({ minimum: 0, maximum: 1, default: 0.2 }),
    bloatCritRatio: Type.Number({ minimum: 0, maximum: 1, default: 0.5 }),
    bloatMinDeadTuples: Type.Integer({ minimum: 0, default: 10_000 }),
    maxSuperusers: Type.Integer({ minimum: 0, default: 1 }),
    requirePgaudit: Type.Boolean({ default: false }),
  },
  { additionalProperties: false, default: {} },
);

export const PostgresOptionsSchema = Type.Object({
  servers: Type.Array(ServerSchema, {
    default: [],
    description: 'Servers to watch; none: the collector does nothing.',
  }),
  maxConnectionsPerServer: Type.Integer({ minimum: 1, maximum: 10, default: 1 }),
  connectTimeoutSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 60, default: 5 }),
  statementTimeoutSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 600, default: 5 }),
  lockTimeoutSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 600, default: 1 }),
  scrapeTimeoutSeconds: Type.Number({
    exclusiveMinimum: 0,
    maximum: 3600,
    default: 10,
    description: 'Per server; keep it below the collector timeout.',
  }),
  reconnectBackoffMaxSeconds: Type.Number({ minimum: 1, maximum: 3600, default: 300 }),
  largestTables: Type.Integer({
    minimum: 0,
    maximum: 1000,
    default: 20,
    description: 'Tables per database with pg_stat_user_tables_* series; 0 disables the per-database pass.',
  }),
  perDatabaseIntervalSeconds: Type.Number({
    minimum: 0,
    maximum: 86_400,
    default: 300,
    description: 'How often the per-database pass (one connection per database, in turn) runs.',
  }),
  securityIntervalSeconds: Type.Number({
    minimum: 0,
    maximum: 86_400,
    default: 300,
    description: 'How often the security baseline is judged (its verdicts are repeated in between).',
  }),
  thresholds: ThresholdsSchema,
});

export type PostgresOptions = Static<typeof PostgresOptionsSchema>;
type ServerOptions = Static<typeof ServerSchema>;

export interface PostgresDeps {
  log: Logger;
  /** Where passwordEnv is looked up. */
  env?: NodeJS.ProcessEnv;
  /** Clock for reconnect backoff and the per-database pass. */
  now?: () => number;
}

interface DatabaseInfo {
  datname: string;
  isTemplate: boolean;
  canConnect: boolean;
}

/** One table's pg_stat_user_tables_* series, prepared once per per-database pass. */
interface TableSeries {
  labels: Labels;
  /** In the order of TABLE_COUNTERS and TABLE_GAUGES. */
  counters: number[];
  gauges: number[];
  facts: TableFacts;
}

interface ServerState {
  options: ServerOptions;
  session: ServerSession;
  /** The scrape still running (its deadline passed), if any. */
  running: Promise<unknown> | undefined;
  /** The largest tables of each examined database, as of the last per-database pass. */
  tables: Map<string, TableSeries[]>;
  skipped: Map<string, string>;
  lastPerDatabaseAt: number;
  security: Verdict[];
  securityAt: number;
  /** server_version_num the statements were chosen for; checked on every scrape. */
  versionNum: number | undefined;
}

function num(value: unknown): number | undefined {
  if (value === null || value === undefined) return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : undefined;
}

function str(value: unknown): string {
  return value === null || value === undefined ? '' : String(value);
}

function isLoopback(host: string): boolean {
  return host.startsWith('/') || host === 'localhost' || host === '127.0.0.1' || host === '::1';
}

/** Why a per-database connection or query failed, as a label value. */
function skipReason(error: unknown): string {
  const code = error instanceof PostgresBackoffError ? error.code : sqlState(error);
  switch (code) {
    case '42501':
      return 'no_connect_privilege';
    case '3D000':
      return 'does_not_exist';
    case '55P03':
      return 'lock_timeout';
    case '57014':
      return 'statement_timeout';
    case '28000':
    case '28P01':
      return 'authentication_failed';
    default:
      return error instanceof PostgresBusyError ? 'busy' : 'error';
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Copies one run's families into the context registry. */
function merge(into: MetricRegistry, from: MetricRegistry): void {
  for (const family of from.collect()) {
    // The samples' label names were checked when they were written into `from`.
    const samples = into.declare(family.name, family.type, family.help).family.samples;
    for (const sample of family.samples) samples.push(sample);
  }
}

/** Settings exported as pg_settings_*. */
const EXPORTED_SETTINGS = ['max_connections', 'superuser_reserved_connections', 'autovacuum_freeze_max_age'];

/** pg_stat_database columns exported as counters: [column, metric suffix, help]. */
const STAT_DATABASE_COUNTERS: [string, string, string][] = [
  ['xact_commit', 'xact_commit', 'Number of transactions in this database that have been committed'],
  ['xact_rollback', 'xact_rollback', 'Number of transactions in this database that have been rolled back'],
  ['blks_read', 'blks_read', 'Number of disk blocks read in this database'],
  ['blks_hit', 'blks_hit', 'Number of times disk blocks were found already in the buffer cache'],
  ['tup_returned', 'tup_returned', 'Number of rows returned by queries in this database'],
  ['tup_fetched', 'tup_fetched', 'Number of rows fetched by queries in this database'],
  ['tup_inserted', 'tup_inserted', 'Number of rows inserted by queries in this database'],
  ['tup_updated', 'tup_updated', 'Number of rows updated by queries in this database'],
  ['tup_deleted', 'tup_deleted', 'Number of rows deleted by queries in this database'],
  ['conflicts', 'conflicts', 'Number of queries canceled due to conflicts with recovery in this database'],
  ['temp_files', 'temp_files', 'Number of temporary files created by queries in this database'],
  ['temp_bytes', 'temp_bytes', 'Total amount of data written to temporary files by queries in this database'],
  ['deadlocks', 'deadlocks', 'Number of deadlocks detected in this database'],
  [
    'blk_read_time',
    'blk_read_time',
    'Time spent reading data file blocks by backends in this database, in milliseconds',
  ],
  [
    'blk_write_time',
    'blk_write_time',
    'Time spent writing data file blocks by backends in this database, in milliseconds',
  ],
];

/** pg_stat_bgwriter columns: [column, metric suffix, help]; those absent on a version are skipped. */
const BGWRITER_COLUMNS: [string, string, string][] = [
  [
    'checkpoints_timed',
    'checkpoints_timed_total',
    'Number of scheduled checkpoints that have been performed',
  ],
  ['checkpoints_req', 'checkpoints_req_total', 'Number of requested checkpoints that have been performed'],
  [
    'checkpoint_write_time',
    'checkpoint_write_time_total',
    'Total amount of time that has been spent in the portion of checkpoint processing where files are written to disk, in milliseconds',
  ],
  [
    'checkpoint_sync_time',
    'checkpoint_sync_time_total',
    'Total amount of time that has been spent in the portion of checkpoint processing where files are synchronized to disk, in milliseconds',
  ],
  ['buffers_checkpoint', 'buffers_checkpoint_total', 'Number of buffers written during checkpoints'],
  ['buffers_clean', 'buffers_clean_total', 'Number of buffers written by the background writer'],
  [
    'maxwritten_clean',
    'maxwritten_clean_total',
    'Number of times the background writer stopped a cleaning scan because it had written too many buffers',
  ],
  ['buffers_backend', 'buffers_backend_total', 'Number of buffers written directly by a backend'],
  [
    'buffers_backend_fsync',
    'buffers_backend_fsync_total',
    'Number of times a backend had to execute its own fsync call',
  ],
  ['buffers_alloc', 'buffers_alloc_total', 'Number of buffers allocated'],
  ['stats_reset', 'stats_reset_total', 'Time at which these statistics were last reset'],
];

/** pg_stat_checkpointer (17+) columns: [column, metric suffix, help]. */
const CHECKPOINTER_COLUMNS: [string, string, string][] = [
  ['num_timed', 'num_timed_total', 'Number of scheduled checkpoints due to timeout'],
  ['num_requested', 'num_requested_total', 'Number of requested checkpoints that have been performed'],
  ['num_done', 'num_done_total', 'Number of checkpoints that have been performed'],
  ['restartpoints_timed', 'restartpoints_timed_total', 'Number of scheduled restartpoints due to timeout'],
  ['restartpoints_req', 'restartpoints_req_total', 'Number of requested restartpoints'],
  ['restartpoints_done', 'restartpoints_done_total', 'Number of restartpoints that have been performed'],
  [
    'write_time',
    'write_time_total',
    'Time spent writing files to disk during checkpoints and restartpoints, in milliseconds',
  ],
  [
    'sync_time',
    'sync_time_total',
    'Time spent synchronizing files to disk during checkpoints and restartpoints, in milliseconds',
  ],
  [
    'buffers_written',
    'buffers_written_total',
    'Number of buffers written during checkpoints and restartpoints',
  ],
  [
    'slru_written',
    'slru_written_total',
    'Number of SLRU buffers written during checkpoints and restartpoints',
  ],
  ['stats_reset', 'stats_reset_total', 'Time at which these statistics were last reset'],
];

/** pg_stat_user_tables columns exported as counters: [column, help]. */
const TABLE_COUNTERS: [string, string][] = [
  ['seq_scan', 'Number of sequential scans initiated on this table'],
  ['seq_tup_read', 'Number of live rows fetched by sequential scans'],
  ['idx_scan', 'Number of index scans initiated on this table'],
  ['idx_tup_fetch', 'Number of live rows fetched by index scans'],
  ['n_tup_ins', 'Number of rows inserted'],
  ['n_tup_upd', 'Number of rows updated'],
  ['n_tup_del', 'Number of rows deleted'],
  ['n_tup_hot_upd', 'Number of rows HOT updated (i.e., with no separate index update required)'],
  ['vacuum_count', 'Number of times this table has been manually vacuumed (not counting VACUUM FULL)'],
  ['autovacuum_count', 'Number of times this table has been vacuumed by the autovacuum daemon'],
  ['analyze_count', 'Number of times this table has been manually analyzed'],
  ['autoanalyze_count', 'Number of times this table has been analyzed by the autovacuum daemon'],
];

/** pg_stat_user_tables columns exported as gauges: [column, help]. */
const TABLE_GAUGES: [string, string][] = [
  ['n_live_tup', 'Estimated number of live rows'],
  ['n_dead_tup', 'Estimated number of dead rows'],
  ['n_mod_since_analyze', 'Estimated number of rows changed since last analyze'],
  ['last_vacuum', 'Last time at which this table was manually vacuumed (not counting VACUUM FULL)'],
  ['last_autovacuum', 'Last time at which this table was vacuumed by the autovacuum daemon'],
  ['last_analyze', 'Last time at which this table was manually analyzed'],
  ['last_autoanalyze', 'Last time at which this table was analyzed by the autovacuum daemon'],
  ['index_size_bytes', 'Total disk space used by this index, in bytes'],
  ['table_size_bytes', 'Total disk space used by this table, in bytes'],
];

/** A row of Q.TABLES as the series every scrape exports until the next per-database pass. */
function tableSeries(server: string, r: Row): TableSeries {
  const labels = { server, datname: str(r.datname), schemaname: str(r.schemaname), relname: str(r.relname) };
  return {
    labels,
    counters: TABLE_COUNTERS.map(([column]) => num(r[column]) ?? 0),
    gauges: TABLE_GAUGES.map(([column]) => num(r[column]) ?? 0),
    facts: {
      datname: labels.datname,
      schemaname: labels.schemaname,
      relname: labels.relname,
      liveTuples: num(r.n_live_tup) ?? 0,
      deadTuples: num(r.n_dead_tup) ?? 0,
      lastVacuum: num(r.last_vacuum) ?? 0,
      lastAutovacuum: num(r.last_autovacuum) ?? 0,
    },
  };
}

/** Statements whose rows one handler exports; a PostgreSQL error in any spoils the whole group. */
interface QueryGroup {
  /** Label `query` of creditops_postgres_query_success. */
  name: string;
  statements: string[];
  /** Exports the rows of `statements`, in order; may run follow-up queries on `q`. */
  handle(rows: Row[][], q: Queryer): Promise<void>;
}

class PostgresCollector implements Collector {
  private readonly servers: ServerState[];
  private readonly now: () => number;

  constructor(
    private readonly options: PostgresOptions,
    private readonly log: Logger,
    env: NodeJS.ProcessEnv,
    now: () => number,
  ) {
    this.now = now;
    this.servers = options.servers.map((s) => ({
      options: s,
      session: new ServerSession(
        {
          name: s.name,
          host: s.host,
          port: s.port,
          user: s.user,
          database: s.database,
          passwordEnv: s.passwordEnv,
          passwordFile: s.passwordFile,
          sslmode: s.sslmode,
        },
        {
          maxConnections: options.maxConnectionsPerServer,
          connectTimeoutMs: options.connectTimeoutSeconds * 1000,
          statementTimeoutMs: options.statementTimeoutSeconds * 1000,
          lockTimeoutMs: options.lockTimeoutSeconds * 1000,
          backoffInitialMs: 1000,
          backoffMaxMs: options.reconnectBackoffMaxSeconds * 1000,
          applicationName: 'creditops-agent',
          now,
          log,
          env,
        },
      ),
      running: undefined,
      tables: new Map(),
      skipped: new Map(),
      lastPerDatabaseAt: Number.NEGATIVE_INFINITY,
      security: [],
      securityAt: Number.NEGATIVE_INFINITY,
      versionNum: undefined,
    }));
  }

  /** For tests: the session of a server. */
  session(name: string): ServerSession | undefined {
    return this.servers.find((s) => s.options.name === name)?.session;
  }

  async collect(ctx: CollectContext): Promise<void> {
    await Promise.all(this.servers.map((s) => this.collectServer(s, ctx)));
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.servers.map((s) => s.session.close()));
  }

  private async collectServer(state: ServerState, ctx: CollectContext): Promise<void> {
    const name = state.options.name;
    const started = performance.now();
    const verdicts: Verdict[] = [];
    const progress = { up: false };
    // Written straight into the context registry, after the scrape's own families.
    const finishMeta = (success: boolean) => {
      const reg = ctx.registry;
      reg
        .gauge('pg_up', 'Whether the last scrape was able to connect to the server (1) or not (0).')
        .set({ server: name }, progress.up ? 1 : 0);
      reg
        .gauge(
          'creditops_postgres_scrape_success',
          'Whether every query of the last scrape of this server answered in time.',
        )
        .set({ server: name }, success ? 1 : 0);
      reg
        .gauge('creditops_postgres_scrape_duration_seconds', 'How long the last scrape of this server took.')
        .set({ server: name }, (performance.now() - started) / 1000);
      reg
        .gauge(
          'creditops_postgres_connections_open',
          'Connections the agent holds to this server (at most maxConnectionsPerServer).',
        )
        .set({ server: name }, state.session.openConnections());
    };

    if (state.running) {
      progress.up = false;
      ctx.log.warn({ server: name }, 'previous scrape of this server has not finished; not starting another');
      verdicts.push(
        verdict(
          'postgres.up',
          name,
          'WARN',
          `上一轮对 ${name} 的查询仍未返回，服务器响应缓慢；本轮跳过以免堆积连接。`,
          {
            busyConnections: state.session.busyConnections(),
          },
        ),
      );
      finishMeta(false);
      for (const v of verdicts) ctx.report(v);
      return;
    }

    const scratch = new MetricRegistry();
    const scrapeVerdicts: Verdict[] = [];
    const work = this.scrape(state, ctx, scratch, scrapeVerdicts, progress).catch((error: unknown) => {
      ctx.log.error({ server: name, error: message(error) }, 'postgres scrape failed unexpectedly');
      return { success: false };
    });
    state.running = work;
    void work.finally(() => {
      state.running = undefined;
    });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.options.scrapeTimeoutSeconds * 1000);
    });
    const outcome = await Promise.race([work, deadline]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      ctx.log.warn(
        { server: name, timeoutSeconds: this.options.scrapeTimeoutSeconds },
        'postgres scrape did not finish in time; its queries keep their connection until statement_timeout',
      );
      verdicts.push(
        verdict(
          'postgres.up',
          name,
          'WARN',
          `${name} 在 ${this.options.scrapeTimeoutSeconds} 秒内未答复全部监控查询，服务器可能负载过高或被锁阻塞。`,
          { timeoutSeconds: this.options.scrapeTimeoutSeconds },
        ),
      );
      progress.up = false;
      finishMeta(false);
    } else {
      merge(ctx.registry, scratch);
      verdicts.push(...scrapeVerdicts);
      finishMeta(outcome.success);
    }
    for (const v of verdicts) ctx.report(v);
  }

  /** One scrape of one server; never throws. */
  private async scrape(
    state: ServerState,
    ctx: CollectContext,
    reg: MetricRegistry,
    verdicts: Verdict[],
    progress: { up: boolean },
  ): Promise<{ success: boolean }> {
    const o = state.options;
    const name = o.name;
    const L = { server: name };
    const t = this.options.thresholds as Thresholds;
    let success = true;
    const querySuccess = reg.gauge(
      'creditops_postgres_query_success',
      'Whether a group of monitoring queries succeeded on the last scrape (0: see the agent log).',
    );
    let databases: DatabaseInfo[] = [];

    const failed = (query: string, error: unknown): void => {
      success = false;
      querySuccess.set({ server: name, query }, 0);
      ctx.log.warn(
        { server: name, query, code: sqlState(error), error: message(error) },
        'postgres query failed',
      );
    };
    const group = async (query: string, fn: () => Promise<void>): Promise<void> => {
      try {
        await fn();
        querySuccess.set({ server: name, query }, 1);
      } catch (error) {
        // A PostgreSQL error (timeout, permission) spoils only this group; a broken connection ends the scrape.
        if (!sqlState(error)) throw error;
        failed(query, error);
      }
    };

    const settings: Record<string, string> = {};
    const sessions: SessionFacts = {
      longestTransactionSeconds: 0,
      longestIdleInTransactionSeconds: 0,
      top: [],
    };
    const replication: ReplicationFacts = { isReplica: false, standbys: [] };

    /** The groups of cluster-wide queries, in the order they run and export. */
    const groupsFor = (versioned: Q.VersionedQueries): QueryGroup[] => [
      {
        name: 'settings',
        statements: [Q.SETTINGS],
        handle: async ([rows]) => {
          for (const r of rows!) settings[str(r.name)] = str(r.setting);
          for (const n of EXPORTED_SETTINGS) {
            const v = num(settings[n]);
            if (v !== undefined) reg.gauge(`pg_settings_${n}`, `Server Parameter: ${n}`).set(L, v);
          }
        },
      },
      {
        name: 'database',
        statements: [Q.DATABASES],
        handle: async ([rows]) => {
          databases = rows!.map((r) => ({
            datname: str(r.datname),
            isTemplate: r.is_template === true,
            canConnect: r.can_connect === true,
          }));
          const size = reg.gauge('pg_database_size_bytes', 'Disk space used by the database');
          const limit = reg.gauge('pg_database_connection_limit', 'Connection limit set for the database');
          const xid = reg.gauge(
            'pg_database_wraparound_age_datfrozenxid_seconds',
            'Age of the oldest transaction ID that has not been frozen.',
          );
          const mxid = reg.gauge(
            'pg_database_wraparound_age_datminmxid_seconds',
            'Age of the oldest multi-transaction ID that has been replaced with a transaction ID.',
          );
          for (const r of rows!) {
            const d = { server: name, datname: str(r.datname) };
            const bytes = num(r.size_bytes);
            if (bytes !== undefined) size.set(d, bytes);
            limit.set(d, num(r.conn_limit) ?? -1);
            xid.set(d, num(r.frozen_xid_age) ?? 0);
            mxid.set(d, num(r.min_mxid_age) ?? 0);
          }
          verdicts.push(
            wraparoundVerdict(
              name,
              t,
              rows!.map((r) => ({
                datname: str(r.datname),
                frozenXidAge: num(r.frozen_xid_age) ?? 0,
                minMxidAge: num(r.min_mxid_age) ?? 0,
              })),
            ),
          );
        },
      },
      {
        name: 'stat_database',
        statements: [Q.STAT_DATABASE],
        handle: async ([rows]) => {
          const backends = reg.gauge(
            'pg_stat_database_numbackends',
            'Number of backends currently connected to this database.',
          );
          const counters = STAT_DATABASE_COUNTERS.map(
            ([column, metric, help]) => [column, reg.counter(`pg_stat_database_${metric}`, help)] as const,
          );
          const statsReset = reg.counter(
            'pg_stat_database_stats_reset',
            'Time at which these statistics were last reset',
          );
          const activeTime = reg.counter(
            'pg_stat_database_active_time_seconds_total',
            'Time spent executing SQL statements in this database, in seconds',
          );
          for (const r of rows!) {
            const d = { server: name, datid: str(r.datid), datname: str(r.datname) };
            backends.set(d, num(r.numbackends) ?? 0);
            for (const [column, w] of counters) w.set(d, num(r[column]) ?? 0);
            statsReset.set(d, num(r.stats_reset) ?? 0);
            activeTime.set(d, (num(r.active_time) ?? 0) / 1000);
          }
        },
      },
      {
        name: 'stat_activity',
        statements: [Q.ACTIVITY, Q.ACTIVITY_SUMMARY],
        handle: async ([activity, summaryRows], q) => {
          const count = reg.gauge('pg_stat_activity_count', 'number of connections in this state');
          const maxTx = reg.gauge(
            'pg_stat_activity_max_tx_duration',
            'max duration in seconds any active transaction has been running',
          );
          for (const r of activity!) {
            const d = { server: name, datname: str(r.datname), state: str(r.state) };
            count.set(d, num(r.count) ?? 0);
            maxTx.set(d, num(r.max_tx_duration) ?? 0);
          }
          const summary = summaryRows![0]!;
          const clientBackends = num(summary.client_backends) ?? 0;
          sessions.longestTransactionSeconds = num(summary.longest_transaction_seconds) ?? 0;
          sessions.longestIdleInTransactionSeconds = num(summary.longest_idle_in_transaction_seconds) ?? 0;
          // Evidence is only needed when a session check is about to complain.
          if (
            sessions.longestTransactionSeconds >= t.longTransactionWarnSeconds ||
            sessions.longestIdleInTransactionSeconds >= t.idleInTransactionWarnSeconds
          ) {
            sessions.top = (await q.query(Q.ACTIVITY_TOP)).map((r) => ({ ...r, pid: num(r.pid) }));
          }
          reg
            .gauge(
              'creditops_postgres_client_backends',
              'Client connections (all databases, all states) but the agent’s own.',
            )
            .set(L, clientBackends);
          reg
            .gauge(
              'creditops_postgres_longest_transaction_seconds',
              'Age of the oldest open transaction of a client session that is not idle.',
            )
            .set(L, sessions.longestTransactionSeconds);
          reg
            .gauge(
              'creditops_postgres_longest_idle_in_transaction_seconds',
              'How long the longest idle-in-transaction session has been idle.',
            )
            .set(L, sessions.longestIdleInTransactionSeconds);
          verdicts.push(
            connectionsVerdict(name, t, {
              clientBackends,
              maxConnections: num(settings.max_connections) ?? 100,
              superuserReserved: num(settings.superuser_reserved_connections) ?? 3,
            }),
            longTransactionVerdict(name, t, sessions),
            idleInTransactionVerdict(name, t, sessions),
          );
        },
      },
      {
        name: 'locks',
        statements: [Q.LOCKS, Q.WAITING_LOCKS],
        handle: async ([locks, waitingRows], q) => {
          const count = reg.gauge('pg_locks_count', 'Number of locks');
          for (const r of locks!) {
            count.set({ server: name, datname: str(r.datname), mode: str(r.mode) }, num(r.count) ?? 0);
          }
          const w = waitingRows![0]!;
          const waiting = num(w.waiting) ?? 0;
          const longest = num(w.longest_wait_seconds) ?? 0;
          reg.gauge('creditops_postgres_locks_waiting', 'Lock requests not granted yet.').set(L, waiting);
          reg
            .gauge(
              'creditops_postgres_lock_wait_longest_seconds',
              'How long the longest waiting lock request has waited.',
            )
            .set(L, longest);
          const blocked = waiting > 0 ? await q.query(Q.BLOCKED_TOP) : [];
          verdicts.push(waitingLocksVerdict(name, t, { waiting, longestWaitSeconds: longest, blocked }));
        },
      },
      {
        name: 'replication',
        // pg_stat_replication is empty on a standby (the statement says so too).
        statements: [Q.REPLICATION, Q.STAT_REPLICATION],
        handle: async ([replicationRows, standbys]) => {
          const r = replicationRows![0]!;
          reg
            .gauge('pg_replication_is_replica', 'Indicates if the server is a replica')
            .set(L, r.is_replica ? 1 : 0);
          reg
            .gauge('pg_replication_lag_seconds', 'Replication lag behind master in seconds')
            .set(L, num(r.lag_seconds) ?? 0);
          const lastReplay = num(r.last_replay_seconds);
          if (lastReplay !== undefined) {
            reg
              .gauge('pg_replication_last_replay_seconds', 'Age of last replay in seconds')
              .set(L, lastReplay);
          }
          reg
            .gauge(
              'creditops_postgres_replication_lag_bytes',
              'On a standby: WAL received but not replayed yet, in bytes (0 on a primary).',
            )
            .set(L, num(r.lag_bytes) ?? 0);
          replication.isReplica = r.is_replica === true;
          replication.lagSeconds = num(r.lag_seconds);
          replication.lagBytes = num(r.lag_bytes);
          replication.receiverStatus = r.receiver_status === null ? null : str(r.receiver_status);
          if (replication.isReplica) {
            reg
              .gauge(
                'creditops_postgres_wal_receiver_streaming',
                'On a standby: whether the WAL receiver is streaming.',
              )
              .set(L, r.receiver_status === 'streaming' ? 1 : 0);
          }
          if (!replication.isReplica) {
            const lsn = reg.gauge('pg_stat_replication_pg_current_wal_lsn_bytes', 'WAL position in bytes');
            const diff = reg.gauge(
              'pg_stat_replication_pg_wal_lsn_diff',
              'Lag in bytes between master and slave',
            );
            const lagSeconds = reg.gauge(
              'creditops_postgres_standby_replay_lag_seconds',
              'On a primary, per standby: replay lag in seconds (0 when the standby has replayed all WAL).',
            );
            for (const s of standbys!) {
              const d = {
                server: name,
                application_name: str(s.application_name),
                client_addr: str(s.client_addr),
                state: str(s.state),
                slot_name: str(s.slot_name),
                pid: str(s.pid),
              };
              const bytes = num(s.replay_lag_bytes) ?? 0;
              // replay_lag is NULL once a standby has caught up with an idle primary.
              const seconds = bytes === 0 ? 0 : (num(s.replay_lag_seconds) ?? null);
              lsn.set(d, num(s.current_wal_lsn_bytes) ?? 0);
              diff.set(d, bytes);
              if (seconds !== null) lagSeconds.set(d, seconds);
              replication.standbys.push({
                applicationName: d.application_name,
                clientAddr: d.client_addr,
                state: d.state,
                replayLagBytes: bytes,
                replayLagSeconds: seconds,
              });
            }
          }
          const v = replicationVerdict(name, t, replication);
          if (v) verdicts.push(v);
        },
      },
      {
        name: 'replication_slots',
        statements: [Q.SLOTS],
        handle: async ([rows]) => {
          const active = reg.gauge('pg_replication_slots_active', 'Flag indicating if the slot is active');
          const diff = reg.gauge('pg_replication_slots_pg_wal_lsn_diff', 'Replication lag in bytes');
          const safe = reg.gauge(
            'pg_replication_slots_safe_wal_size_bytes',
            'number of bytes that can be written to WAL such that this slot is not in danger of getting in state lost',
          );
          const status = reg.gauge(
            'pg_replication_slots_wal_status',
            'availability of WAL files claimed by this slot',
          );
          for (const r of rows!) {
            const d = { server: name, slot_name: str(r.slot_name), database: str(r.database) };
            active.set(d, r.active ? 1 : 0);
            const retained = num(r.retained_bytes);
            if (retained !== undefined) diff.set(d, retained);
            const safeSize = num(r.safe_wal_size);
            const slotType = str(r.slot_type);
            if (safeSize !== undefined) {
              safe.set({ server: name, slot_name: d.slot_name, slot_type: slotType }, safeSize);
            }
            if (r.wal_status) {
              status.set(
                { server: name, slot_name: d.slot_name, slot_type: slotType, wal_status: str(r.wal_status) },
                1,
              );
            }
          }
          const v = slotsVerdict(
            name,
            t,
            rows!.map((r) => ({
              slotName: str(r.slot_name),
              active: r.active === true,
              retainedBytes: num(r.retained_bytes) ?? null,
              walStatus: r.wal_status === null ? null : str(r.wal_status),
            })),
          );
          if (v) verdicts.push(v);
        },
      },
      {
        name: 'stat_archiver',
        statements: [Q.ARCHIVER],
        handle: async ([rows]) => {
          const r = rows![0]!;
          reg
            .counter(
              'pg_stat_archiver_archived_count',
              'Number of WAL files that have been successfully archived',
            )
            .set(L, num(r.archived_count) ?? 0);
          reg
            .counter('pg_stat_archiver_failed_count', 'Number of failed attempts for archiving WAL files')
            .set(L, num(r.failed_count) ?? 0);
          const age = num(r.last_archive_age);
          if (age !== undefined) {
            reg
              .gauge(
                'pg_stat_archiver_last_archive_age',
                'Time in seconds since last WAL segment was successfully archived',
              )
              .set(L, age);
          }
          reg
            .gauge(
              'creditops_postgres_archiver_failing',
              'Whether the last archiving attempt failed (a failure newer than the last success).',
            )
            .set(L, r.failing ? 1 : 0);
          verdicts.push(
            archiverVerdict(name, {
              archiveMode: settings.archive_mode ?? 'off',
              archivedCount: num(r.archived_count) ?? 0,
              failedCount: num(r.failed_count) ?? 0,
              failing: r.failing === true,
              lastArchiveAge: age ?? null,
              lastFailedWal: r.last_failed_wal === null ? null : str(r.last_failed_wal),
            }),
          );
        },
      },
      {
        name: 'stat_bgwriter',
        statements: [versioned.bgwriter],
        handle: async ([rows]) => {
          const r = rows![0]!;
          for (const [column, metric, help] of BGWRITER_COLUMNS) {
            if (!(column in r)) continue;
            reg.counter(`pg_stat_bgwriter_${metric}`, help).set(L, num(r[column]) ?? 0);
          }
        },
      },
      ...(versioned.checkpointer === undefined
        ? []
        : [
            {
              name: 'stat_checkpointer',
              statements: [versioned.checkpointer],
              handle: async ([rows]: Row[][]) => {
                const r = rows![0]!;
                for (const [column, metric, help] of CHECKPOINTER_COLUMNS) {
                  if (!(column in r)) continue;
                  reg.counter(`pg_stat_checkpointer_${metric}`, help).set(L, num(r[column]) ?? 0);
                }
              },
            },
          ]),
    ];
    try {
      await state.session.withConnection(o.database, async (q) => {
        // The statements depend on the version, learnt on the first scrape and checked by INFO on
        // each: a server upgraded since the last scrape has its statements chosen again.
        let chosen = state.versionNum;
        let groups: QueryGroup[] = [];
        let batch: BatchResult = { results: [] };
        for (let attempt = 0; attempt < 3; attempt++) {
          groups = chosen === undefined ? [] : groupsFor(Q.queriesFor(chosen));
          batch = await q.batch([Q.INFO, ...groups.flatMap((g) => g.statements)]);
          const versionRow = batch.results[0]?.[0];
          if (!versionRow) throw batch.error ?? new Error('no answer to the version query');
          progress.up = true;
          const versionNum = num(versionRow.version_num)!;
          if (versionNum === chosen) break;
          Q.queriesFor(versionNum); // throws for a version the collector does not support
          chosen = state.versionNum = versionNum;
        }

        const info = batch.results[0]![0]!;
        const version = str(info.version);
        reg
          .gauge('pg_static', 'Version string as reported by postgres.')
          .set({ server: name, version: str(info.version_full), short_version: version.split(' ')[0]! }, 1);
        reg
          .gauge('pg_postmaster_start_time_seconds', 'Time at which postmaster started.')
          .set(L, num(info.start_time) ?? 0);
        replication.isReplica = info.in_recovery === true;

        // A statement PostgreSQL refuses (timeout, permission) ends its batch: its group is reported
        // failed and the groups after it run in a new batch, so it spoils only its own group.
        let offset = 1;
        for (let i = 0; i < groups.length; i++) {
          const g = groups[i]!;
          const end = offset + g.statements.length;
          if (end <= batch.results.length) {
            const rows = batch.results.slice(offset, end);
            offset = end;
            await group(g.name, () => g.handle(rows, q));
            continue;
          }
          failed(g.name, batch.error);
          if (i + 1 < groups.length) {
            batch = await q.batch(groups.slice(i + 1).flatMap((x) => x.statements));
            offset = 0;
          }
        }

        // The baseline changes with configuration, not load: judged every securityIntervalSeconds,
        // its verdicts repeated in between.
        if (this.now() - state.securityAt >= this.options.securityIntervalSeconds * 1000) {
          await group('security', async () => {
            state.security = await this.security(state, ctx, q, settings);
            state.securityAt = this.now();
          });
        }
        verdicts.push(...state.security);
      });
    } catch (error) {
      success = false;
      if (!progress.up) {
        const busy = error instanceof PostgresBusyError;
        ctx.log.warn(
          { server: name, error: message(error) },
          busy ? 'postgres connection busy' : 'cannot reach postgres',
        );
        verdicts.push(
          verdict(
            'postgres.up',
            name,
            busy ? 'WARN' : 'CRIT',
            busy
              ? `到 ${name} 的连接仍被未返回的查询占用，服务器响应缓慢。`
              : `无法连接数据库 ${name}（${o.host}:${o.port}）：${message(error)}`,
            { host: o.host, port: o.port, user: o.user, database: o.database, error: message(error) },
          ),
        );
        return { success };
      }
      ctx.log.warn({ server: name, error: message(error) }, 'postgres scrape interrupted');
    }
    if (progress.up) {
      verdicts.push(verdict('postgres.up', name, 'OK', `数据库 ${name} 可连接并答复监控查询。`));
    }

    if (progress.up && this.options.largestTables > 0) {
      const ok = await this.perDatabase(state, ctx, databases, reg, verdicts);
      success &&= ok;
    }
    return { success };
  }

  /** The per-database pass: the largest tables of each database the role may connect to. */
  private async perDatabase(
    state: ServerState,
    ctx: CollectContext,
    databases: DatabaseInfo[],
    reg: MetricRegistry,
    verdicts: Verdict[],
  ): Promise<boolean> {
    const o = state.options;
    const L = { server: o.name };
    const now = this.now();
    const wanted = databases.filter(
      (d) =>
        !d.isTemplate &&
        (o.includeDatabases.length === 0 || o.includeDatabases.includes(d.datname)) &&
        !o.excludeDatabases.includes(d.datname),
    );
    let ok = true;
    if (now - state.lastPerDatabaseAt >= this.options.perDatabaseIntervalSeconds * 1000) {
      state.lastPerDatabaseAt = now;
      const skipped = new Map<string, { reason: string; error?: string }>();
      // The scrape's connection is to o.database: examining it first reuses that connection, and
      // the pass opens one connection fewer.
      const order = [
        ...wanted.filter((d) => d.datname === o.database),
        ...wanted.filter((d) => d.datname !== o.database),
      ];
      for (const d of order) {
        if (!d.canConnect) {
          skipped.set(d.datname, { reason: 'no_connect_privilege' });
          continue;
        }
        try {
          const rows = await state.session.withConnection(d.datname, (q) =>
            q.query(Q.tablesQuery(this.options.largestTables)),
          );
          state.tables.set(
            d.datname,
            rows.map((r) => tableSeries(o.name, r)),
          );
        } catch (error) {
          skipped.set(d.datname, { reason: skipReason(error), error: message(error) });
          state.tables.delete(d.datname);
          if (error instanceof PostgresBusyError) break;
        }
      }
      // Series and skips in database name order, whatever order the pass took.
      const byName = <T>(m: Map<string, T>) =>
        new Map(wanted.filter((d) => m.has(d.datname)).map((d) => [d.datname, m.get(d.datname)!] as const));
      state.tables = byName(state.tables);
      for (const [datname, s] of byName(skipped)) {
        if (state.skipped.get(datname) !== s.reason) {
          ctx.log.warn(
            { server: o.name, datname, reason: s.reason, error: s.error },
            'database skipped: its tables are not examined',
          );
        }
      }
      for (const datname of state.skipped.keys()) {
        if (!skipped.has(datname)) ctx.log.info({ server: o.name, datname }, 'database examined again');
      }
      state.skipped = new Map([...byName(skipped)].map(([k, v]) => [k, v.reason]));
      ok = skipped.size === 0;
    }
    const present = new Set(wanted.map((d) => d.datname));
    for (const datname of state.tables.keys()) if (!present.has(datname)) state.tables.delete(datname);

    const skippedGauge = reg.gauge(
      'creditops_postgres_database_skipped',
      'A database the per-database pass could not examine (1), with the reason (no_connect_privilege, lock_timeout, …).',
    );
    for (const [datname, reason] of state.skipped) {
      if (present.has(datname)) skippedGauge.set({ ...L, datname, reason }, 1);
    }
    reg
      .gauge(
        'creditops_postgres_databases_examined',
        'Databases whose tables the last per-database pass examined.',
      )
      .set(L, state.tables.size);

    const facts: TableFacts[] = [];
    const counters = TABLE_COUNTERS.map(([column, help]) =>
      reg.counter(`pg_stat_user_tables_${column}`, help),
    );
    const gauges = TABLE_GAUGES.map(([column, help]) => reg.gauge(`pg_stat_user_tables_${column}`, help));
    for (const series of state.tables.values()) {
      for (const table of series) {
        for (let i = 0; i < counters.length; i++) counters[i]!.set(table.labels, table.counters[i]!);
        for (let i = 0; i < gauges.length; i++) gauges[i]!.set(table.labels, table.gauges[i]!);
        facts.push(table.facts);
      }
    }
    if (state.tables.size > 0) {
      verdicts.push(bloatVerdict(o.name, this.options.thresholds as Thresholds, facts, now / 1000));
    }
    return ok;
  }

  private async security(
    state: ServerState,
    ctx: CollectContext,
    q: Queryer,
    settings: Record<string, string>,
  ): Promise<Verdict[]> {
    const o = state.options;
    const facts: SecurityFacts = { settings, superusers: [] };
    try {
      facts.hba = (await q.query(Q.HBA_RULES)).map((r) => ({
        lineNumber: num(r.line_number) ?? 0,
        type: str(r.type),
        database: str(r.database),
        userName: str(r.user_name),
        address: r.address === null ? null : str(r.address),
        authMethod: r.auth_method === null ? null : str(r.auth_method),
        error: r.error === null ? null : str(r.error),
      }));
    } catch (error) {
      // Only "not allowed" means the check cannot be made; a lock or statement timeout is a failed query.
      if (sqlState(error) !== '42501') throw error;
      facts.hbaError = message(error);
    }
    facts.superusers = (await q.query(Q.SUPERUSERS)).map((r) => str(r.rolname));
    const canReadAuthid = (await q.query(Q.CAN_READ_AUTHID))[0]?.allowed === true;
    if (canReadAuthid) {
      facts.passwords = (await q.query(Q.PASSWORDS)).map((r) => ({
        rolname: str(r.rolname),
        noPassword: r.no_password === true,
        md5: r.md5 === true,
      }));
    }
    const roles = await q.query(Q.ROLES);
    const passwordSet = canReadAuthid
      ? new Map((await q.query(Q.ROLE_PASSWORDS)).map((r) => [str(r.rolname), r.password_set === true]))
      : undefined;
    const inventory = roleInventoryVerdict(
      o.name,
      roles.map(
        (r): PostgresRole => ({
          rolname: str(r.rolname),
          superuser: r.superuser === true,
          createrole: r.createrole === true,
          createdb: r.createdb === true,
          canlogin: r.canlogin === true,
          replication: r.replication === true,
          bypassrls: r.bypassrls === true,
          passwordSet: passwordSet ? (passwordSet.get(str(r.rolname)) ?? false) : null,
          validUntil: r.valid_until === null ? null : str(r.valid_until),
          memberOf: Array.isArray(r.member_of) ? r.member_of.map(str).sort() : [],
        }),
      ),
      passwordSet !== undefined,
    );
    const local = o.filesOnThisHost ?? isLoopback(o.host);
    if (local && settings.data_directory) {
      const files: { path: string; kind: 'data_directory' | 'config' }[] = [
        { path: settings.data_directory, kind: 'data_directory' },
        ...['config_file', 'hba_file', 'ident_file']
          .map((k) => settings[k])
          .filter((p): p is string => !!p)
          .map((path) => ({ path, kind: 'config' as const })),
      ];
      facts.fileModes = await Promise.all(
        files.map(async (f) => {
          try {
            return { ...f, mode: (await stat(join(ctx.rootfs, f.path))).mode };
          } catch (error) {
            return { ...f, error: message(error) };
          }
        }),
      );
    }
    // The bootstrap superuser is the owner of template0.
    const bootstrap = str((await q.query('SELECT pg_get_userbyid(10) AS rolname'))[0]?.rolname);
    return [...securityVerdicts(o.name, this.options.thresholds as Thresholds, facts, bootstrap), inventory];
  }
}

/** Applies defaults and builds the collector; tests call this with their own env and clock. */
export function createPostgresCollector(
  given: Partial<PostgresOptions>,
  deps: PostgresDeps,
): Collector & { session(name: string): ServerSession | undefined; close(): Promise<void> } {
  const options = Value.Default(PostgresOptionsSchema, structuredClone(given)) as PostgresOptions;
  const names = new Set<string>();
  for (const s of options.servers) {
    if (names.has(s.name))
      throw new Error(`collectors.postgres.servers: server name "${s.name}" is used twice`);
    names.add(s.name);
  }
  if (options.scrapeTimeoutSeconds <= options.statementTimeoutSeconds) {
    deps.log.warn(
      {
        scrapeTimeoutSeconds: options.scrapeTimeoutSeconds,
        statementTimeoutSeconds: options.statementTimeoutSeconds,
      },
      'scrapeTimeoutSeconds should exceed statementTimeoutSeconds, or slow queries end scrapes before PostgreSQL ends them',
    );
  }
  return new PostgresCollector(options, deps.log, deps.env ?? process.env, deps.now ?? Date.now);
}

export const postgres: CollectorDescriptor<PostgresOptions> = {
  name: 'postgres',
  description:
    'PostgreSQL 14-18 statistics with postgres_exporter names (pg_*), DBA health checks and the security baseline.',
  defaultIntervalSeconds: 30,
  defaultTimeoutSeconds: 20,
  options: PostgresOptionsSchema,
  create(options, deps) {
    return createPostgresCollector(options, { log: deps.log });
  },
};
