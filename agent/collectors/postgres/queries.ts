/**
 * The SQL the PostgreSQL collector runs, chosen by server version (server_version_num). Supported:
 * 14 to 18. Every statement only reads statistics views and catalogs a role granted pg_monitor can
 * read; the few that need more (pg_hba_file_rules, pg_authid) are tried and reported as unknown
 * when refused.
 */

export const MIN_VERSION_NUM = 140000;

export const INFO = `
SELECT current_setting('server_version_num')::int AS version_num,
       current_setting('server_version') AS version,
       version() AS version_full,
       pg_is_in_recovery() AS in_recovery,
       extract(epoch FROM pg_postmaster_start_time())::float8 AS start_time,
       current_user AS role`;

/** Settings the collector exports or judges. */
export const SETTING_NAMES = [
  'max_connections',
  'superuser_reserved_connections',
  'autovacuum_freeze_max_age',
  'autovacuum_multixact_freeze_max_age',
  'archive_mode',
  'archive_timeout',
  'password_encryption',
  'logging_collector',
  'log_connections',
  'log_disconnections',
  'shared_preload_libraries',
  'data_directory',
  'config_file',
  'hba_file',
  'ident_file',
];

/** Constant lists go into the SQL text: a query without parameters is one simple-protocol message. */
function textArray(values: string[]): string {
  return `ARRAY[${values.map((v) => `'${v.replaceAll("'", "''")}'`).join(', ')}]::text[]`;
}

export const SETTINGS = `SELECT name, setting FROM pg_settings WHERE name = ANY(${textArray(SETTING_NAMES)})`;

export const DATABASES = `
SELECT d.datname,
       d.datistemplate AS is_template,
       d.datconnlimit AS conn_limit,
       has_database_privilege(d.oid, 'CONNECT') AS can_connect,
       CASE WHEN has_database_privilege(d.oid, 'CONNECT') OR pg_has_role('pg_read_all_stats', 'MEMBER')
            THEN pg_database_size(d.oid) END AS size_bytes,
       age(d.datfrozenxid) AS frozen_xid_age,
       mxid_age(d.datminmxid) AS min_mxid_age
  FROM pg_database d
 WHERE d.datallowconn
 ORDER BY d.datname`;

const STAT_DATABASE_COLUMNS = `datid::text AS datid, datname, numbackends, xact_commit, xact_rollback, blks_read,
       blks_hit, tup_returned, tup_fetched, tup_inserted, tup_updated, tup_deleted, conflicts, temp_files,
       temp_bytes, deadlocks, blk_read_time, blk_write_time,
       extract(epoch FROM stats_reset)::float8 AS stats_reset, active_time`;

export const STAT_DATABASE = `SELECT ${STAT_DATABASE_COLUMNS} FROM pg_stat_database WHERE datname IS NOT NULL`;

/** The states pg_stat_activity can show; every one is exported per database, 0 when absent. */
export const ACTIVITY_STATES = [
  'active',
  'idle',
  'idle in transaction',
  'idle in transaction (aborted)',
  'fastpath function call',
  'disabled',
];

export const ACTIVITY = `
SELECT d.datname, s.state, COALESCE(a.count, 0) AS count, COALESCE(a.max_tx_duration, 0) AS max_tx_duration
  FROM pg_database d
 CROSS JOIN unnest(${textArray(ACTIVITY_STATES)}) AS s(state)
  LEFT JOIN (SELECT datname, state, count(*) AS count,
                    max(extract(epoch FROM now() - xact_start))::float8 AS max_tx_duration
               FROM pg_stat_activity
              WHERE pid <> pg_backend_pid()
              GROUP BY datname, state) a ON a.datname = d.datname AND a.state = s.state
 WHERE d.datallowconn`;

/** Sessions judged by the checks: the longest transactions and idle-in-transaction sessions. */
export const ACTIVITY_SUMMARY = `
SELECT count(*) FILTER (WHERE backend_type = 'client backend') AS client_backends,
       COALESCE(max(extract(epoch FROM now() - xact_start))
         FILTER (WHERE backend_type = 'client backend' AND state <> 'idle' AND xact_start IS NOT NULL), 0)::float8
         AS longest_transaction_seconds,
       COALESCE(max(extract(epoch FROM now() - state_change))
         FILTER (WHERE state LIKE 'idle in transaction%'), 0)::float8 AS longest_idle_in_transaction_seconds
  FROM pg_stat_activity
 WHERE pid <> pg_backend_pid()`;

/** Evidence for the session checks: who, where, how long; never the query text (it may hold personal data). */
export const ACTIVITY_TOP = `
SELECT pid, datname, usename, application_name, COALESCE(client_addr::text, 'local') AS client_addr, state,
       extract(epoch FROM now() - xact_start)::float8 AS transaction_seconds,
       extract(epoch FROM now() - state_change)::float8 AS state_seconds
  FROM pg_stat_activity
 WHERE pid <> pg_backend_pid() AND backend_type = 'client backend' AND xact_start IS NOT NULL AND state <> 'idle'
 ORDER BY xact_start
 LIMIT 5`;

export const LOCK_MODES = [
  'accesssharelock',
  'rowsharelock',
  'rowexclusivelock',
  'shareupdateexclusivelock',
  'sharelock',
  'sharerowexclusivelock',
  'exclusivelock',
  'accessexclusivelock',
  'sireadlock',
];

export const LOCKS = `
SELECT d.datname, m.mode, COALESCE(l.count, 0) AS count
  FROM pg_database d
 CROSS JOIN unnest(${textArray(LOCK_MODES)}) AS m(mode)
  LEFT JOIN (SELECT database, lower(mode) AS mode, count(*) AS count
               FROM pg_locks WHERE database IS NOT NULL GROUP BY database, lower(mode)) l
         ON l.database = d.oid AND l.mode = m.mode
 WHERE d.datallowconn`;

/** pg_locks.waitstart exists since 14. */
export const WAITING_LOCKS = `
SELECT count(*) AS waiting,
       COALESCE(max(extract(epoch FROM now() - waitstart)), 0)::float8 AS longest_wait_seconds
  FROM pg_locks WHERE NOT granted`;

export const BLOCKED_TOP = `
SELECT a.pid, a.datname, a.usename, a.application_name, pg_blocking_pids(a.pid) AS blocked_by,
       extract(epoch FROM now() - l.waitstart)::float8 AS wait_seconds, l.mode, l.locktype
  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
 WHERE NOT l.granted
 ORDER BY l.waitstart
 LIMIT 5`;

/**
 * Lag as postgres_exporter computes it (0 on a primary, and 0 when the standby has replayed all it
 * received even if the last replayed transaction is old: an idle primary sends nothing to replay).
 */
export const REPLICATION = `
SELECT pg_is_in_recovery() AS is_replica,
       CASE WHEN NOT pg_is_in_recovery() THEN 0
            WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE GREATEST(0, extract(epoch FROM now() - pg_last_xact_replay_timestamp())) END::float8 AS lag_seconds,
       CASE WHEN pg_is_in_recovery()
            THEN GREATEST(0, extract(epoch FROM now() - pg_last_xact_replay_timestamp())) END::float8 AS last_replay_seconds,
       CASE WHEN NOT pg_is_in_recovery() THEN 0
            ELSE GREATEST(0, pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())) END::float8 AS lag_bytes,
       (SELECT status FROM pg_stat_wal_receiver LIMIT 1) AS receiver_status`;

export const STAT_REPLICATION = `
SELECT r.application_name, COALESCE(r.client_addr::text, '') AS client_addr, r.state,
       COALESCE(s.slot_name::text, '') AS slot_name, r.pid::text AS pid,
       pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::float8 AS current_wal_lsn_bytes,
       GREATEST(0, pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn))::float8 AS replay_lag_bytes,
       extract(epoch FROM r.replay_lag)::float8 AS replay_lag_seconds
  FROM pg_stat_replication r
  LEFT JOIN pg_replication_slots s ON s.active_pid = r.pid
 WHERE NOT pg_is_in_recovery()`;

export const SLOTS = `
SELECT slot_name::text, slot_type, COALESCE(database::text, '') AS database, active,
       pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END,
                       restart_lsn)::float8 AS retained_bytes,
       wal_status, safe_wal_size::float8 AS safe_wal_size
  FROM pg_replication_slots`;

export const ARCHIVER = `
SELECT archived_count, failed_count,
       extract(epoch FROM now() - last_archived_time)::float8 AS last_archive_age,
       extract(epoch FROM now() - last_failed_time)::float8 AS last_failed_age,
       last_failed_wal,
       COALESCE(last_failed_time > COALESCE(last_archived_time, '-infinity'), false) AS failing
  FROM pg_stat_archiver`;

export const BGWRITER_BEFORE_17 = `
SELECT checkpoints_timed, checkpoints_req, checkpoint_write_time, checkpoint_sync_time, buffers_checkpoint,
       buffers_clean, maxwritten_clean, buffers_backend, buffers_backend_fsync, buffers_alloc,
       extract(epoch FROM stats_reset)::float8 AS stats_reset
  FROM pg_stat_bgwriter`;

/** 17 moved the checkpoint and backend columns to pg_stat_checkpointer and pg_stat_io. */
export const BGWRITER_17 = `
SELECT buffers_clean, maxwritten_clean, buffers_alloc, extract(epoch FROM stats_reset)::float8 AS stats_reset
  FROM pg_stat_bgwriter`;

export const CHECKPOINTER_17 = `
SELECT num_timed, num_requested, restartpoints_timed, restartpoints_req, restartpoints_done, write_time,
       sync_time, buffers_written, extract(epoch FROM stats_reset)::float8 AS stats_reset
  FROM pg_stat_checkpointer`;

/** 18 added num_done (checkpoints completed) and slru_written. */
export const CHECKPOINTER_18 = `
SELECT num_timed, num_requested, num_done, restartpoints_timed, restartpoints_req, restartpoints_done, write_time,
       sync_time, buffers_written, slru_written, extract(epoch FROM stats_reset)::float8 AS stats_reset
  FROM pg_stat_checkpointer`;

/**
 * The `limit` largest tables of the current database by total size. pg_class sizes avoid locking
 * the tables (pg_total_relation_size would wait behind an ACCESS EXCLUSIVE lock); relpages is as
 * fresh as the last VACUUM/ANALYZE, which is good enough to pick the largest. The limit goes into
 * the text: a query without parameters is one simple-protocol message.
 */
export function tablesQuery(limit: number): string {
  if (!Number.isInteger(limit) || limit < 0)
    throw new Error(`largestTables must be a whole number, not ${limit}`);
  return `
SELECT * FROM (
  SELECT current_database() AS datname, s.schemaname, s.relname, s.relid,
         s.seq_scan, s.seq_tup_read, COALESCE(s.idx_scan, 0) AS idx_scan, COALESCE(s.idx_tup_fetch, 0) AS idx_tup_fetch,
         s.n_tup_ins, s.n_tup_upd, s.n_tup_del, s.n_tup_hot_upd, s.n_live_tup, s.n_dead_tup, s.n_mod_since_analyze,
         COALESCE(extract(epoch FROM s.last_vacuum), 0)::float8 AS last_vacuum,
         COALESCE(extract(epoch FROM s.last_autovacuum), 0)::float8 AS last_autovacuum,
         COALESCE(extract(epoch FROM s.last_analyze), 0)::float8 AS last_analyze,
         COALESCE(extract(epoch FROM s.last_autoanalyze), 0)::float8 AS last_autoanalyze,
         s.vacuum_count, s.autovacuum_count, s.analyze_count, s.autoanalyze_count,
         (c.relpages::bigint + COALESCE(t.relpages, 0)) * current_setting('block_size')::bigint AS table_size_bytes,
         COALESCE((SELECT sum(i.relpages)::bigint FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                    WHERE x.indrelid = s.relid), 0) * current_setting('block_size')::bigint AS index_size_bytes
    FROM pg_stat_user_tables s
    JOIN pg_class c ON c.oid = s.relid
    LEFT JOIN pg_class t ON t.oid = c.reltoastrelid
) tables
 ORDER BY table_size_bytes + index_size_bytes DESC, n_live_tup + n_dead_tup DESC, relid
 LIMIT ${limit}`;
}

export const HBA_RULES = `
SELECT line_number, type, database::text AS database, user_name::text AS user_name, address, auth_method, error
  FROM pg_hba_file_rules ORDER BY line_number`;

export const SUPERUSERS = `SELECT rolname FROM pg_roles WHERE rolsuper AND rolcanlogin ORDER BY rolname`;

/** Readable only with SELECT on pg_authid (superusers); otherwise the check says it cannot tell. */
export const PASSWORDS = `
SELECT rolname, rolpassword IS NULL AS no_password, COALESCE(rolpassword LIKE 'md5%', false) AS md5
  FROM pg_authid
 WHERE rolcanlogin AND (rolvaliduntil IS NULL OR rolvaliduntil > now())
 ORDER BY rolname`;

/**
 * The role inventory for account drift (collector/accounts): every role but the predefined pg_*
 * ones, with its attributes and the roles it is a member of. pg_roles is readable by any role; its
 * rolpassword is always masked, so whether a password is set comes from ROLE_PASSWORDS.
 */
export const ROLES = `
SELECT r.rolname, r.rolsuper AS superuser, r.rolcreaterole AS createrole, r.rolcreatedb AS createdb,
       r.rolcanlogin AS canlogin, r.rolreplication AS replication, r.rolbypassrls AS bypassrls,
       CASE WHEN r.rolvaliduntil IS NULL THEN NULL
            WHEN r.rolvaliduntil = 'infinity' THEN 'infinity'
            ELSE to_char(r.rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') END AS valid_until,
       COALESCE((SELECT array_agg(DISTINCT g.rolname::text ORDER BY g.rolname::text)
                   FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                  WHERE m.member = r.oid), '{}'::text[]) AS member_of
  FROM pg_roles r
 WHERE r.rolname !~ '^pg_'
 ORDER BY r.rolname`;

/** Whether each role has a password; readable only with SELECT on pg_authid (see CAN_READ_AUTHID). */
export const ROLE_PASSWORDS = `SELECT rolname, rolpassword IS NOT NULL AS password_set FROM pg_authid WHERE rolname !~ '^pg_'`;

export const CAN_READ_AUTHID = `SELECT has_table_privilege('pg_catalog.pg_authid', 'SELECT') AS allowed`;

export interface VersionedQueries {
  bgwriter: string;
  checkpointer: string | undefined;
}

/** The statements that differ between versions. */
export function queriesFor(versionNum: number): VersionedQueries {
  if (versionNum < MIN_VERSION_NUM) {
    throw new Error(`PostgreSQL ${versionNum} is not supported (14 or later needed)`);
  }
  if (versionNum >= 180000) return { bgwriter: BGWRITER_17, checkpointer: CHECKPOINTER_18 };
  if (versionNum >= 170000) return { bgwriter: BGWRITER_17, checkpointer: CHECKPOINTER_17 };
  return { bgwriter: BGWRITER_BEFORE_17, checkpointer: undefined };
}
