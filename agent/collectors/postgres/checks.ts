/**
 * What a DBA concludes from one scrape: pure functions from the facts the scrape gathered to
 * verdicts, each with a Chinese title and remediation from CATALOGUE (carried in `details`), and
 * the evidence that led to it.
 */
import type { CheckStatus } from '../../../lib/wire/push.js';
import type { Verdict } from '../types.js';

export interface CheckInfo {
  title: string;
  remediation: string;
  /** The GB/T 22239-2019 clause the check evidences, where one applies. */
  clause?: string;
}

export const CATALOGUE = {
  'postgres.up': {
    title: 'PostgreSQL 可用性',
    remediation:
      '检查数据库服务状态（systemctl status postgresql），查看数据库日志；确认监控账号、密码与 pg_hba.conf 允许代理连接。',
  },
  'postgres.connections': {
    title: 'PostgreSQL 连接数饱和度',
    remediation:
      '查看 pg_stat_activity 中连接来源与状态，排查应用连接池泄漏或过大配置；必要时引入 PgBouncer，或在评估内存后调高 max_connections。',
  },
  'postgres.wraparound': {
    title: 'PostgreSQL 事务 ID 回卷风险',
    remediation:
      '对年龄最大的数据库执行 VACUUM (FREEZE)，排查阻止冻结的长事务、未提交的预备事务和失效复制槽；确认 autovacuum 正常运行。',
  },
  'postgres.long_transactions': {
    title: 'PostgreSQL 长事务',
    remediation:
      '根据证据中的 pid 与应用名联系应用负责人确认事务用途；无法确认时用 pg_cancel_backend/pg_terminate_backend 结束。长事务会阻止 VACUUM 回收空间。',
  },
  'postgres.idle_in_transaction': {
    title: 'PostgreSQL 空闲事务（idle in transaction）',
    remediation:
      '应用开启事务后未提交或回滚，会持有锁并阻止 VACUUM。修复应用事务处理，并设置 idle_in_transaction_session_timeout。',
  },
  'postgres.waiting_locks': {
    title: 'PostgreSQL 锁等待',
    remediation:
      '用 pg_blocking_pids() 找到阻塞源会话（证据中 blocked_by），确认后提交/结束阻塞事务；DDL 应在维护窗口执行并设置 lock_timeout。',
  },
  'postgres.replication_lag': {
    title: 'PostgreSQL 主备复制延迟',
    remediation:
      '检查备库 WAL 接收进程（pg_stat_wal_receiver）与网络；检查备库磁盘 IO 与回放冲突；持续延迟会使故障切换丢失数据。',
  },
  'postgres.replication_slots': {
    title: 'PostgreSQL 复制槽积压 WAL',
    remediation:
      '非活动复制槽会无限保留 WAL 直至磁盘写满。确认对应备库/订阅是否仍需要：需要则恢复其连接，不需要则 SELECT pg_drop_replication_slot(...)；建议设置 max_slot_wal_keep_size。',
  },
  'postgres.archiver': {
    title: 'PostgreSQL WAL 归档',
    remediation:
      '查看数据库日志中 archive_command 的报错（证据中 last_failed_wal），检查归档目标目录空间与权限；归档失败会使 pg_wal 堆积并导致无法按时间点恢复。',
  },
  'postgres.bloat': {
    title: 'PostgreSQL 表膨胀估计（死元组比例）',
    remediation:
      '对证据中的表执行 VACUUM (ANALYZE)；检查 autovacuum 是否被长事务阻塞、阈值是否适合大表（autovacuum_vacuum_scale_factor）；严重膨胀在维护窗口用 pg_repack 处理。',
  },
  'postgres.security.hba': {
    title: 'PostgreSQL 访问控制：pg_hba.conf 认证方式',
    remediation:
      '将 pg_hba.conf 中的 trust 与 password 改为 scram-sha-256（本地管理可用 peer），执行 SELECT pg_reload_conf()。参见 CIS PostgreSQL Benchmark 4.x。',
    clause: 'GB/T 22239-2019 8.1.4.1',
  },
  'postgres.security.password_encryption': {
    title: 'PostgreSQL 口令加密方式',
    remediation:
      "设置 password_encryption = 'scram-sha-256' 并重新加载配置，然后为仍使用 md5 的账号重新设置口令（ALTER ROLE ... PASSWORD ...）。",
    clause: 'GB/T 22239-2019 8.1.4.1',
  },
  'postgres.security.superusers': {
    title: 'PostgreSQL 超级用户数量',
    remediation:
      '超级用户应只保留一个（通常为 postgres）。对其他账号执行 ALTER ROLE ... NOSUPERUSER，按最小权限授予所需角色（如 pg_monitor）。',
    clause: 'GB/T 22239-2019 8.1.4.2',
  },
  'accounts.postgres': {
    title: 'PostgreSQL 角色清单（用于审批基线比对）',
    remediation:
      '角色的新增、变更、删除须经主管部门审批；未经审批的变更应撤回，或补办审批后在 creditops 中批准。',
    clause: 'GB/T 22239-2019 8.1.4.2 a) b) c)',
  },
  'postgres.security.roles_without_password': {
    title: 'PostgreSQL 无口令的登录账号',
    remediation:
      '为可登录账号设置强口令（ALTER ROLE ... PASSWORD ...），不需要登录的账号设置 NOLOGIN。参见 Lynis AUTH-9286 的同类检查。',
    clause: 'GB/T 22239-2019 8.1.4.1',
  },
  'postgres.security.logging': {
    title: 'PostgreSQL 审计日志设置',
    remediation:
      '设置 logging_collector = on、log_connections = on、log_disconnections = on（需要时在 shared_preload_libraries 中加载 pgaudit），日志至少保留 6 个月。',
    clause: 'GB/T 22239-2019 8.1.4.3',
  },
  'postgres.security.file_modes': {
    title: 'PostgreSQL 数据目录与配置文件权限',
    remediation:
      '执行 chmod 0700 <数据目录>，chmod 0600 postgresql.conf pg_hba.conf pg_ident.conf，属主为 postgres。',
    clause: 'GB/T 22239-2019 8.1.4.2',
  },
} as const satisfies Record<string, CheckInfo>;

export type CheckId = keyof typeof CATALOGUE;

export function verdict(
  check: CheckId,
  target: string,
  status: CheckStatus,
  summary: string,
  evidence: Record<string, unknown> = {},
): Verdict {
  const info: CheckInfo = CATALOGUE[check];
  return {
    check,
    target,
    status,
    summary,
    details: {
      title: info.title,
      remediation: info.remediation,
      ...(info.clause ? { clause: info.clause } : {}),
      evidence,
    },
  };
}

export interface Thresholds {
  connectionsWarnRatio: number;
  connectionsCritRatio: number;
  /** Fractions of the 2^31 transaction IDs before wraparound. */
  wraparoundWarnRatio: number;
  wraparoundCritRatio: number;
  longTransactionWarnSeconds: number;
  longTransactionCritSeconds: number;
  idleInTransactionWarnSeconds: number;
  idleInTransactionCritSeconds: number;
  lockWaitWarnSeconds: number;
  lockWaitCritSeconds: number;
  replicationLagWarnSeconds: number;
  replicationLagCritSeconds: number;
  replicationLagWarnBytes: number;
  replicationLagCritBytes: number;
  inactiveSlotWarnBytes: number;
  inactiveSlotCritBytes: number;
  bloatWarnRatio: number;
  bloatCritRatio: number;
  /** Tables with fewer dead tuples than this are not judged (small tables churn harmlessly). */
  bloatMinDeadTuples: number;
  maxSuperusers: number;
  requirePgaudit: boolean;
}

export const WRAPAROUND_LIMIT = 2 ** 31;

function worst(...statuses: CheckStatus[]): CheckStatus {
  const order: CheckStatus[] = ['OK', 'UNKNOWN', 'WARN', 'CRIT'];
  return statuses.reduce((a, b) => (order.indexOf(b) > order.indexOf(a) ? b : a), 'OK');
}

function level(value: number, warn: number, crit: number): CheckStatus {
  return value >= crit ? 'CRIT' : value >= warn ? 'WARN' : 'OK';
}

function duration(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} 秒`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} 分钟`;
  return `${(seconds / 3600).toFixed(1)} 小时`;
}

function bytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  return `${Math.round(n / 1024)} KiB`;
}

export function connectionsVerdict(
  server: string,
  t: Thresholds,
  f: { clientBackends: number; maxConnections: number; superuserReserved: number },
): Verdict {
  const usable = Math.max(1, f.maxConnections - f.superuserReserved);
  const ratio = f.clientBackends / usable;
  const status = level(ratio, t.connectionsWarnRatio, t.connectionsCritRatio);
  const pct = `${Math.round(ratio * 100)}%`;
  return verdict(
    'postgres.connections',
    server,
    status,
    status === 'OK'
      ? `客户端连接 ${f.clientBackends} 个，占可用连接 ${usable} 个的 ${pct}。`
      : `客户端连接 ${f.clientBackends} 个，已占可用连接 ${usable} 个的 ${pct}，新连接可能被拒绝。`,
    { ...f, usable, ratio },
  );
}

export function wraparoundVerdict(
  server: string,
  t: Thresholds,
  databases: { datname: string; frozenXidAge: number; minMxidAge: number }[],
): Verdict {
  let worstDb: { datname: string; age: number; kind: string } | undefined;
  for (const d of databases) {
    for (const [kind, age] of [
      ['xid', d.frozenXidAge],
      ['multixact', d.minMxidAge],
    ] as const) {
      if (!worstDb || age > worstDb.age) worstDb = { datname: d.datname, age, kind };
    }
  }
  const ratio = (worstDb?.age ?? 0) / WRAPAROUND_LIMIT;
  const status = level(ratio, t.wraparoundWarnRatio, t.wraparoundCritRatio);
  const pct = `${(ratio * 100).toFixed(1)}%`;
  return verdict(
    'postgres.wraparound',
    server,
    status,
    status === 'OK'
      ? `最老未冻结事务年龄为回卷上限的 ${pct}（数据库 ${worstDb?.datname ?? '-'}）。`
      : `数据库 ${worstDb?.datname} 的${worstDb?.kind === 'xid' ? '事务 ID' : '多事务 ID'}年龄已达回卷上限的 ${pct}，继续增长将导致数据库停止写入。`,
    { worst: worstDb, ratio, databases },
  );
}

export interface SessionFacts {
  longestTransactionSeconds: number;
  longestIdleInTransactionSeconds: number;
  top: Record<string, unknown>[];
}

export function longTransactionVerdict(server: string, t: Thresholds, f: SessionFacts): Verdict {
  const s = f.longestTransactionSeconds;
  const status = level(s, t.longTransactionWarnSeconds, t.longTransactionCritSeconds);
  return verdict(
    'postgres.long_transactions',
    server,
    status,
    status === 'OK'
      ? `最长的活动事务已运行 ${duration(s)}，在阈值内。`
      : `有事务已运行 ${duration(s)}（阈值 ${duration(t.longTransactionWarnSeconds)}），会阻止 VACUUM 并可能持有锁。`,
    { longestTransactionSeconds: s, sessions: f.top },
  );
}

export function idleInTransactionVerdict(server: string, t: Thresholds, f: SessionFacts): Verdict {
  const s = f.longestIdleInTransactionSeconds;
  const status = level(s, t.idleInTransactionWarnSeconds, t.idleInTransactionCritSeconds);
  return verdict(
    'postgres.idle_in_transaction',
    server,
    status,
    status === 'OK'
      ? s > 0
        ? `空闲事务最长 ${duration(s)}，在阈值内。`
        : '没有空闲事务会话。'
      : `有会话在事务中空闲了 ${duration(s)}，持有的锁与快照会阻塞其他会话和 VACUUM。`,
    {
      longestIdleInTransactionSeconds: s,
      sessions: f.top.filter((x) => String(x.state).startsWith('idle in')),
    },
  );
}

export function waitingLocksVerdict(
  server: string,
  t: Thresholds,
  f: { waiting: number; longestWaitSeconds: number; blocked: Record<string, unknown>[] },
): Verdict {
  const status =
    f.waiting === 0 ? 'OK' : level(f.longestWaitSeconds, t.lockWaitWarnSeconds, t.lockWaitCritSeconds);
  return verdict(
    'postgres.waiting_locks',
    server,
    status,
    f.waiting === 0
      ? '没有等待中的锁。'
      : `${f.waiting} 个锁请求在等待，最长已等待 ${duration(f.longestWaitSeconds)}。`,
    f,
  );
}

export interface ReplicationFacts {
  isReplica: boolean;
  /** On a standby. */
  lagSeconds?: number | undefined;
  lagBytes?: number | undefined;
  receiverStatus?: string | null | undefined;
  /** On a primary, one per connected standby. */
  standbys: {
    applicationName: string;
    clientAddr: string;
    state: string;
    replayLagBytes: number;
    replayLagSeconds: number | null;
  }[];
}

/** Undefined on a primary without standbys: nothing to judge. */
export function replicationVerdict(server: string, t: Thresholds, f: ReplicationFacts): Verdict | undefined {
  if (f.isReplica) {
    const s = f.lagSeconds ?? 0;
    const b = f.lagBytes ?? 0;
    let status = worst(
      level(s, t.replicationLagWarnSeconds, t.replicationLagCritSeconds),
      level(b, t.replicationLagWarnBytes, t.replicationLagCritBytes),
    );
    const streaming = f.receiverStatus === 'streaming';
    if (!streaming) status = worst(status, 'WARN');
    return verdict(
      'postgres.replication_lag',
      server,
      status,
      !streaming
        ? `本机为备库，但 WAL 接收进程未在流复制（状态：${f.receiverStatus ?? '无'}），延迟无法反映主库最新状态。`
        : status === 'OK'
          ? `本机为备库，回放延迟 ${duration(s)}、${bytes(b)}。`
          : `本机为备库，回放落后主库 ${duration(s)}、${bytes(b)}。`,
      { role: 'standby', lagSeconds: s, lagBytes: b, receiverStatus: f.receiverStatus ?? null },
    );
  }
  if (f.standbys.length === 0) return undefined;
  let status: CheckStatus = 'OK';
  for (const sb of f.standbys) {
    status = worst(
      status,
      level(sb.replayLagBytes, t.replicationLagWarnBytes, t.replicationLagCritBytes),
      level(sb.replayLagSeconds ?? 0, t.replicationLagWarnSeconds, t.replicationLagCritSeconds),
      sb.state === 'streaming' ? 'OK' : 'WARN',
    );
  }
  const maxBytes = Math.max(...f.standbys.map((s) => s.replayLagBytes));
  return verdict(
    'postgres.replication_lag',
    server,
    status,
    status === 'OK'
      ? `${f.standbys.length} 个备库在流复制，最大回放延迟 ${bytes(maxBytes)}。`
      : `备库复制异常或延迟过大（最大回放延迟 ${bytes(maxBytes)}）。`,
    { role: 'primary', standbys: f.standbys },
  );
}

export function slotsVerdict(
  server: string,
  t: Thresholds,
  slots: { slotName: string; active: boolean; retainedBytes: number | null; walStatus: string | null }[],
): Verdict | undefined {
  if (slots.length === 0) return undefined;
  let status: CheckStatus = 'OK';
  const findings: string[] = [];
  for (const s of slots) {
    if (s.walStatus === 'lost') {
      status = worst(status, 'CRIT');
      findings.push(`${s.slotName}（所需 WAL 已丢失）`);
      continue;
    }
    if (s.active) continue;
    const retained = s.retainedBytes ?? 0;
    const l = level(retained, t.inactiveSlotWarnBytes, t.inactiveSlotCritBytes);
    if (l !== 'OK') findings.push(`${s.slotName}（非活动，保留 ${bytes(retained)}）`);
    status = worst(status, l);
  }
  return verdict(
    'postgres.replication_slots',
    server,
    status,
    status === 'OK' ? `${slots.length} 个复制槽，无积压。` : `复制槽积压 WAL：${findings.join('，')}。`,
    { slots },
  );
}

export function archiverVerdict(
  server: string,
  f: {
    archiveMode: string;
    archivedCount: number;
    failedCount: number;
    failing: boolean;
    lastArchiveAge: number | null;
    lastFailedWal: string | null;
  },
): Verdict {
  if (f.archiveMode === 'off') {
    return verdict('postgres.archiver', server, 'OK', '未启用 WAL 归档（archive_mode = off）。', f);
  }
  return verdict(
    'postgres.archiver',
    server,
    f.failing ? 'CRIT' : 'OK',
    f.failing
      ? `WAL 归档正在失败（最近失败的段 ${f.lastFailedWal}，累计失败 ${f.failedCount} 次），pg_wal 将持续堆积。`
      : `WAL 归档正常，已归档 ${f.archivedCount} 个段${f.lastArchiveAge === null ? '' : `，最近一次在 ${duration(f.lastArchiveAge)}前`}。`,
    f,
  );
}

export interface TableFacts {
  datname: string;
  schemaname: string;
  relname: string;
  liveTuples: number;
  deadTuples: number;
  lastVacuum: number;
  lastAutovacuum: number;
}

export function bloatVerdict(
  server: string,
  t: Thresholds,
  tables: TableFacts[],
  nowSeconds: number,
): Verdict {
  let status: CheckStatus = 'OK';
  const findings: Record<string, unknown>[] = [];
  for (const tb of tables) {
    const total = tb.liveTuples + tb.deadTuples;
    if (tb.deadTuples < t.bloatMinDeadTuples || total === 0) continue;
    const ratio = tb.deadTuples / total;
    const l = level(ratio, t.bloatWarnRatio, t.bloatCritRatio);
    if (l === 'OK') continue;
    status = worst(status, l);
    const lastVacuum = Math.max(tb.lastVacuum, tb.lastAutovacuum);
    findings.push({
      table: `${tb.datname}.${tb.schemaname}.${tb.relname}`,
      deadTuples: tb.deadTuples,
      deadRatio: Number(ratio.toFixed(3)),
      lastVacuumAgeSeconds: lastVacuum > 0 ? Math.round(nowSeconds - lastVacuum) : null,
    });
  }
  findings.sort((a, b) => Number(b.deadRatio) - Number(a.deadRatio));
  const first = findings[0];
  return verdict(
    'postgres.bloat',
    server,
    status,
    status === 'OK'
      ? `最大的 ${tables.length} 张表死元组比例均在阈值内。`
      : `${findings.length} 张表死元组比例过高，最严重的是 ${first?.table}（${Math.round(Number(first?.deadRatio) * 100)}%）。`,
    { tables: findings.slice(0, 10), judged: tables.length },
  );
}

export interface HbaRule {
  lineNumber: number;
  type: string;
  database: string;
  userName: string;
  address: string | null;
  authMethod: string | null;
  error: string | null;
}

export interface SecurityFacts {
  settings: Record<string, string>;
  /** undefined: pg_hba_file_rules could not be read (reason in hbaError). */
  hba?: HbaRule[] | undefined;
  hbaError?: string | undefined;
  superusers: string[];
  /** undefined: pg_authid could not be read. */
  passwords?: { rolname: string; noPassword: boolean; md5: boolean }[] | undefined;
  /** Mode bits per path, or why they could not be read; undefined when the server is not on this host. */
  fileModes?:
    | { path: string; kind: 'data_directory' | 'config'; mode?: number; error?: string }[]
    | undefined;
}

function isOff(value: string | undefined): boolean {
  // 18 turned log_connections into a list of aspects; empty means off.
  return value === undefined || value === '' || value === 'off' || value === 'false';
}

export function securityVerdicts(
  server: string,
  t: Thresholds,
  f: SecurityFacts,
  bootstrapSuperuser: string,
): Verdict[] {
  const out: Verdict[] = [];
  if (f.hba === undefined) {
    out.push(
      verdict(
        'postgres.security.hba',
        server,
        'UNKNOWN',
        '监控账号无权读取 pg_hba_file_rules，无法检查认证方式（见 README 中的授权语句）。',
        { error: f.hbaError },
      ),
    );
  } else {
    const trust = f.hba.filter((r) => r.authMethod === 'trust');
    const password = f.hba.filter((r) => r.authMethod === 'password');
    const broken = f.hba.filter((r) => r.error);
    const status: CheckStatus =
      trust.length > 0 ? 'CRIT' : password.length > 0 || broken.length > 0 ? 'WARN' : 'OK';
    const parts: string[] = [];
    if (trust.length)
      parts.push(`${trust.length} 条 trust（免密）规则，第 ${trust.map((r) => r.lineNumber).join('、')} 行`);
    if (password.length)
      parts.push(
        `${password.length} 条 password（明文口令）规则，第 ${password.map((r) => r.lineNumber).join('、')} 行`,
      );
    if (broken.length) parts.push(`${broken.length} 行无法解析`);
    out.push(
      verdict(
        'postgres.security.hba',
        server,
        status,
        status === 'OK'
          ? 'pg_hba.conf 中没有 trust 或 password 认证规则。'
          : `pg_hba.conf 中有${parts.join('；')}。`,
        { rules: [...trust, ...password, ...broken] },
      ),
    );
  }

  const encryption = f.settings.password_encryption ?? '';
  const md5Roles = f.passwords?.filter((p) => p.md5).map((p) => p.rolname) ?? [];
  out.push(
    verdict(
      'postgres.security.password_encryption',
      server,
      encryption === 'scram-sha-256' && md5Roles.length === 0 ? 'OK' : 'WARN',
      encryption !== 'scram-sha-256'
        ? `password_encryption 为 ${encryption || '未知'}，应为 scram-sha-256。`
        : md5Roles.length > 0
          ? `仍有 ${md5Roles.length} 个账号使用 md5 口令摘要：${md5Roles.join('、')}。`
          : 'password_encryption 为 scram-sha-256。',
      { password_encryption: encryption, md5Roles, md5Checked: f.passwords !== undefined },
    ),
  );

  out.push(
    verdict(
      'postgres.security.superusers',
      server,
      f.superusers.length > t.maxSuperusers ? 'WARN' : 'OK',
      f.superusers.length > t.maxSuperusers
        ? `有 ${f.superusers.length} 个可登录的超级用户（${f.superusers.join('、')}），应不超过 ${t.maxSuperusers} 个。`
        : `可登录的超级用户 ${f.superusers.length} 个（${f.superusers.join('、')}）。`,
      { superusers: f.superusers, max: t.maxSuperusers },
    ),
  );

  if (f.passwords === undefined) {
    out.push(
      verdict(
        'postgres.security.roles_without_password',
        server,
        'UNKNOWN',
        '监控账号无权读取 pg_authid，无法判断是否存在无口令账号（只有超级用户可读）。',
      ),
    );
  } else {
    // The bootstrap superuser usually logs in locally through peer authentication only.
    const none = f.passwords
      .filter((p) => p.noPassword && p.rolname !== bootstrapSuperuser)
      .map((p) => p.rolname);
    out.push(
      verdict(
        'postgres.security.roles_without_password',
        server,
        none.length > 0 ? 'WARN' : 'OK',
        none.length > 0
          ? `有 ${none.length} 个可登录账号没有设置口令：${none.join('、')}。`
          : '所有可登录账号均已设置口令。',
        { roles: none, exempt: bootstrapSuperuser },
      ),
    );
  }

  const off = ['logging_collector', 'log_connections', 'log_disconnections'].filter((n) =>
    isOff(f.settings[n]),
  );
  const libraries = (f.settings.shared_preload_libraries ?? '').split(',').map((s) => s.trim());
  const pgauditMissing = t.requirePgaudit && !libraries.includes('pgaudit');
  out.push(
    verdict(
      'postgres.security.logging',
      server,
      off.length > 0 || pgauditMissing ? 'WARN' : 'OK',
      off.length > 0 || pgauditMissing
        ? `审计日志设置不足：${[...off.map((n) => `${n} 未开启`), ...(pgauditMissing ? ['未加载 pgaudit'] : [])].join('，')}。`
        : '连接、断开日志与日志收集均已开启。',
      {
        logging_collector: f.settings.logging_collector,
        log_connections: f.settings.log_connections,
        log_disconnections: f.settings.log_disconnections,
        shared_preload_libraries: f.settings.shared_preload_libraries,
      },
    ),
  );

  if (f.fileModes === undefined) {
    out.push(
      verdict(
        'postgres.security.file_modes',
        server,
        'UNKNOWN',
        '数据库不在本机（或路径未知），无法检查文件权限。',
      ),
    );
  } else {
    const bad: string[] = [];
    const unreadable: string[] = [];
    for (const m of f.fileModes) {
      if (m.mode === undefined) {
        unreadable.push(m.path);
        continue;
      }
      const allowed = m.kind === 'data_directory' ? 0o700 : 0o600;
      if ((m.mode & 0o777 & ~allowed) !== 0)
        bad.push(`${m.path} 为 ${(m.mode & 0o777).toString(8).padStart(4, '0')}`);
    }
    const status: CheckStatus = bad.length > 0 ? 'WARN' : unreadable.length > 0 ? 'UNKNOWN' : 'OK';
    out.push(
      verdict(
        'postgres.security.file_modes',
        server,
        status,
        bad.length > 0
          ? `权限过宽：${bad.join('，')}（数据目录应为 0700，配置文件应为 0600）。`
          : unreadable.length > 0
            ? `代理无法读取 ${unreadable.join('、')} 的权限。`
            : '数据目录与配置文件权限符合要求。',
        {
          files: f.fileModes.map((m) => ({
            ...m,
            ...(m.mode === undefined ? {} : { mode: (m.mode & 0o777).toString(8).padStart(4, '0') }),
          })),
        },
      ),
    );
  }
  return out;
}

/** One role of a server, as the collector's account baseline keeps it (collector/accounts). */
export interface PostgresRole {
  rolname: string;
  superuser: boolean;
  createrole: boolean;
  createdb: boolean;
  canlogin: boolean;
  replication: boolean;
  bypassrls: boolean;
  /** null: the monitoring role cannot read pg_authid (pg_monitor alone cannot), so it cannot tell. */
  passwordSet: boolean | null;
  /** ISO 8601 in UTC, 'infinity', or null (no expiry). */
  validUntil: string | null;
  memberOf: string[];
}

/**
 * The role inventory of a server: always OK, the roles as evidence; the collector compares them
 * with the approved baseline and reports drift (collector/accounts/drift.ts).
 */
export function roleInventoryVerdict(
  server: string,
  roles: PostgresRole[],
  passwordReadable: boolean,
): Verdict {
  return verdict(
    'accounts.postgres',
    server,
    'OK',
    `共 ${roles.length} 个角色，其中 ${roles.filter((r) => r.canlogin).length} 个可登录、${roles.filter((r) => r.superuser).length} 个超级用户${passwordReadable ? '' : '（监控账号无权读取 pg_authid，无法判断是否设置口令）'}。`,
    { server, roles, passwordReadable },
  );
}
