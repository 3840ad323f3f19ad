/**
 * The backup collector: for each configured backup set, how old, how big and how many its
 * backups are, whether the newest still fits on its volume, whether each backup is intact
 * (verified once per backup, remembered by file identity), and whether the newest dump restores
 * (a restore test on a schedule). Metrics are creditops_backup_*{set,backup_kind}; verdicts are
 * backup.freshness, backup.size, backup.integrity, backup.space and backup.restore_test.
 *
 * collect() only scans and reports, so it stays fast: verifications and restore tests run in the
 * background, one at a time, each child process bounded by its own timeout, and their results
 * appear in the collect after they finish.
 */
import { statfs } from 'node:fs/promises';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { Logger } from 'pino';
import type { CheckStatus } from '../../../lib/wire/push.js';
import type { CollectContext, Collector, CollectorDescriptor, Verdict } from '../types.js';
import { restoreTest } from './restore-test.js';
import { type BackupEntry, scanSet, splitPattern } from './scan.js';
import { BackupState } from './state.js';
import { BACKUP_KINDS, type BackupKind, verifyBackup } from './verify.js';

const ConnectionSchema = Type.Object(
  {
    host: Type.String({ minLength: 1, default: '/var/run/postgresql' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 5432 }),
    user: Type.String({ minLength: 1 }),
    database: Type.String({ minLength: 1, default: 'postgres' }),
    passwordEnv: Type.Optional(Type.String({ minLength: 1 })),
    passwordFile: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

const SanityCheckSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    sql: Type.String({
      minLength: 1,
      description: 'Returns one number, e.g. SELECT count(*) FROM credit_subject.',
    }),
    compareWithSource: Type.Boolean({ default: false }),
    tolerance: Type.Number({ minimum: 0, default: 0.05 }),
    min: Type.Optional(Type.Number()),
  },
  { additionalProperties: false },
);

const RestoreTestSchema = Type.Object(
  {
    scratch: ConnectionSchema,
    source: Type.Optional(ConnectionSchema),
    checks: Type.Array(SanityCheckSchema, { default: [] }),
    intervalHours: Type.Number({ exclusiveMinimum: 0, default: 24 }),
    timeoutMinutes: Type.Number({ exclusiveMinimum: 0, default: 60 }),
  },
  { additionalProperties: false },
);

const SetSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 60, pattern: '^[A-Za-z0-9_.-]+$' }),
    path: Type.String({ minLength: 1, description: 'A directory, or a glob whose last segment has * or ?.' }),
    kind: Type.Union(BACKUP_KINDS.map((k) => Type.Literal(k))),
    maxAgeHours: Type.Number({
      exclusiveMinimum: 0,
      default: 26,
      description: 'The newest backup older than this is CRIT (a daily schedule plus slack).',
    }),
    minCount: Type.Integer({
      minimum: 0,
      default: 1,
      description: 'Backups retained at least (WARN below).',
    }),
    shrinkWarnRatio: Type.Number({
      minimum: 0,
      maximum: 1,
      default: 0.5,
      description: 'WARN when the newest is smaller than the previous by more than this fraction.',
    }),
    verify: Type.Boolean({ default: true }),
    sha256Manifest: Type.String({
      default: '',
      description: 'A sha256sum file next to the backups, e.g. SHA256SUMS.',
    }),
    restoreTest: Type.Optional(RestoreTestSchema),
  },
  { additionalProperties: false },
);

export const BackupOptionsSchema = Type.Object({
  sets: Type.Array(SetSchema, { default: [] }),
  stateFile: Type.String({
    minLength: 1,
    default: './data/agent/backup-state.json',
    description: 'Where verification results and restore tests are remembered (the agent data directory).',
  }),
  pgBinDir: Type.String({ default: '', description: 'Directory of pg_restore and psql; empty: PATH.' }),
  verifyTimeoutMinutes: Type.Number({ exclusiveMinimum: 0, default: 30 }),
  walSegmentBytes: Type.Integer({ minimum: 1, default: 16 * 2 ** 20 }),
  scratchPrefix: Type.String({ pattern: '^[a-z_][a-z0-9_]*$', default: 'creditops_restore_' }),
});

export type BackupOptions = Static<typeof BackupOptionsSchema>;
type SetOptions = Static<typeof SetSchema>;

export interface BackupDeps {
  log: Logger;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
}

const DUMP_KINDS: BackupKind[] = ['pg_dump_custom', 'pg_dump_plain', 'pg_dump_gzip'];
const WHOLE_BACKUP_KINDS: BackupKind[] = [...DUMP_KINDS, 'pg_basebackup_tar'];

const TITLES = {
  'backup.freshness': {
    title: '备份时效',
    remediation: '检查备份任务（cron/systemd timer）是否按计划运行、日志中是否报错，确认备份目录挂载正常。',
  },
  'backup.size': {
    title: '备份大小突变',
    remediation:
      '对比前后两次备份的内容与日志：备份骤减常见于备份中途失败、连错数据库或数据被误删，需立即核实。',
  },
  'backup.integrity': {
    title: '备份完整性',
    remediation: '损坏或截断的备份无法恢复：检查备份时的磁盘空间与任务日志，重新执行一次备份并确认校验通过。',
  },
  'backup.space': {
    title: '备份卷剩余空间',
    remediation: '清理过期备份或扩容备份卷，确保下一次备份能完整写入；同时核对保留策略。',
  },
  'backup.restore_test': {
    title: '备份恢复演练',
    remediation:
      '按证据中的原因排查：恢复报错检查备份与目标库版本、扩展；核对未通过检查源库与备份时间差及数据是否被误删。',
  },
} as const;

function verdict(
  check: keyof typeof TITLES,
  target: string,
  status: CheckStatus,
  summary: string,
  evidence: Record<string, unknown>,
): Verdict {
  return {
    check,
    target,
    status,
    summary,
    details: { ...TITLES[check], clause: 'GB/T 22239-2019 8.1.4.11', evidence },
  };
}

function hours(ms: number): string {
  return ms < 2 * 3600_000 ? `${Math.round(ms / 60_000)} 分钟` : `${(ms / 3600_000).toFixed(1)} 小时`;
}

function size(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  return `${Math.round(n / 1024)} KiB`;
}

type Job = { key: string; run: () => Promise<void> };

class BackupCollector implements Collector {
  private readonly state: BackupState;
  private loaded: Promise<void> | undefined;
  private readonly queue: Job[] = [];
  private readonly queued = new Set<string>();
  private running: Promise<void> | undefined;
  private readonly abort = new AbortController();
  /** Counts for tests and the agent's own log. */
  readonly counts = { verifications: 0, restoreTests: 0 };

  constructor(
    private readonly options: BackupOptions,
    private readonly log: Logger,
    private readonly env: NodeJS.ProcessEnv,
    private readonly now: () => number,
  ) {
    this.state = new BackupState(options.stateFile);
  }

  /** Resolves when no verification or restore test is queued or running (for tests). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async close(): Promise<void> {
    this.abort.abort(new Error('backup collector closed'));
    this.queue.length = 0;
    await this.running?.catch(() => {});
  }

  async collect(ctx: CollectContext): Promise<void> {
    this.loaded ??= this.state.load();
    await this.loaded;
    const seen = new Set<string>();
    for (const set of this.options.sets) {
      const entries = await this.collectSet(set, ctx);
      for (const e of entries) seen.add(e.identity);
    }
    // Keep results for backups still present; a file scanned nowhere any more is forgotten.
    for (const key of this.queued) seen.add(key);
    this.state.prune(seen);
  }

  private async collectSet(set: SetOptions, ctx: CollectContext): Promise<BackupEntry[]> {
    const L = { set: set.name, backup_kind: set.kind };
    const r = ctx.registry;
    const now = this.now();
    let entries: BackupEntry[];
    try {
      entries = (await scanSet(set.path, set.kind === 'pg_basebackup_tar')).filter(
        (e) => !set.sha256Manifest || e.name !== set.sha256Manifest,
      );
      r.gauge('creditops_backup_scan_success', 'Whether the backup set could be listed.').set(L, 1);
    } catch (error) {
      r.gauge('creditops_backup_scan_success', 'Whether the backup set could be listed.').set(L, 0);
      ctx.log.warn({ set: set.name, path: set.path, error: String(error) }, 'cannot list backup set');
      ctx.report(
        verdict(
          'backup.freshness',
          set.name,
          'CRIT',
          `无法读取备份位置 ${set.path}：${error instanceof Error ? error.message : error}`,
          {
            path: set.path,
          },
        ),
      );
      return [];
    }
    const maxAgeMs = set.maxAgeHours * 3600_000;
    r.gauge('creditops_backup_count', 'Backups of the set currently retained.').set(L, entries.length);
    r.gauge(
      'creditops_backup_max_age_seconds',
      'The configured schedule: the newest backup may be this old.',
    ).set(L, maxAgeMs / 1000);
    r.gauge('creditops_backup_total_size_bytes', 'Size of all retained backups of the set.').set(
      L,
      entries.reduce((a, e) => a + e.size, 0),
    );
    const newest = entries[0];
    const previous = entries[1];

    // Freshness and retention.
    if (!newest) {
      ctx.report(
        verdict('backup.freshness', set.name, 'CRIT', `备份集 ${set.name}（${set.path}）中没有任何备份。`, {
          path: set.path,
        }),
      );
    } else {
      const age = now - newest.mtimeMs;
      r.gauge('creditops_backup_newest_timestamp_seconds', 'Modification time of the newest backup.').set(
        L,
        newest.mtimeMs / 1000,
      );
      r.gauge('creditops_backup_newest_age_seconds', 'Age of the newest backup.').set(
        L,
        Math.max(0, age) / 1000,
      );
      r.gauge('creditops_backup_newest_size_bytes', 'Size of the newest backup.').set(L, newest.size);
      const evidence = {
        newest: newest.path,
        newestAt: new Date(newest.mtimeMs).toISOString(),
        count: entries.length,
        maxAgeHours: set.maxAgeHours,
      };
      if (age > maxAgeMs) {
        ctx.report(
          verdict(
            'backup.freshness',
            set.name,
            'CRIT',
            `备份集 ${set.name} 最新备份已是 ${hours(age)}前，超过计划的 ${set.maxAgeHours} 小时。`,
            evidence,
          ),
        );
      } else if (entries.length < set.minCount) {
        ctx.report(
          verdict(
            'backup.freshness',
            set.name,
            'WARN',
            `备份集 ${set.name} 只保留了 ${entries.length} 份，少于要求的 ${set.minCount} 份。`,
            evidence,
          ),
        );
      } else {
        ctx.report(
          verdict(
            'backup.freshness',
            set.name,
            'OK',
            `备份集 ${set.name} 最新备份在 ${hours(age)}前，共保留 ${entries.length} 份。`,
            evidence,
          ),
        );
      }
    }

    // Size change and room for the next one (whole backups only; archive files vary by nature).
    if (newest && WHOLE_BACKUP_KINDS.includes(set.kind)) {
      let next = newest.size;
      if (previous) {
        r.gauge('creditops_backup_previous_size_bytes', 'Size of the backup before the newest.').set(
          L,
          previous.size,
        );
        const ratio = previous.size > 0 ? newest.size / previous.size - 1 : 0;
        r.gauge(
          'creditops_backup_size_change_ratio',
          'Size of the newest backup against the previous one, minus 1 (-0.5: half).',
        ).set(L, ratio);
        if (ratio > 0) next = Math.round(newest.size * (1 + ratio));
        const evidence = {
          newest: newest.path,
          newestBytes: newest.size,
          previous: previous.path,
          previousBytes: previous.size,
          ratio,
        };
        if (newest.size === 0) {
          ctx.report(
            verdict('backup.size', set.name, 'CRIT', `备份集 ${set.name} 最新备份大小为 0。`, evidence),
          );
        } else if (ratio < -set.shrinkWarnRatio) {
          ctx.report(
            verdict(
              'backup.size',
              set.name,
              'WARN',
              `备份集 ${set.name} 最新备份 ${size(newest.size)}，比上一份 ${size(previous.size)} 缩小了 ${Math.round(-ratio * 100)}%。`,
              evidence,
            ),
          );
        } else {
          ctx.report(
            verdict(
              'backup.size',
              set.name,
              'OK',
              `备份集 ${set.name} 最新备份 ${size(newest.size)}，与上一份相比变化 ${Math.round(ratio * 100)}%。`,
              evidence,
            ),
          );
        }
      }
      r.gauge(
        'creditops_backup_next_size_estimate_bytes',
        'Expected size of the next backup (the newest, grown as it grew last time).',
      ).set(L, next);
      try {
        const fs = await statfs(splitPattern(set.path).dir);
        const avail = fs.bavail * fs.bsize;
        r.gauge(
          'creditops_backup_volume_avail_bytes',
          'Space available to the backup writer on the backup volume.',
        ).set(L, avail);
        const status: CheckStatus = avail < next ? 'CRIT' : avail < 2 * next ? 'WARN' : 'OK';
        ctx.report(
          verdict(
            'backup.space',
            set.name,
            status,
            status === 'OK'
              ? `备份卷剩余 ${size(avail)}，足够下一次约 ${size(next)} 的备份。`
              : `备份卷剩余 ${size(avail)}，${status === 'CRIT' ? '不足以' : '只勉强够'}写入下一次约 ${size(next)} 的备份。`,
            { availBytes: avail, nextBytes: next },
          ),
        );
      } catch (error) {
        ctx.log.warn({ set: set.name, error: String(error) }, 'cannot statfs the backup volume');
      }
    }

    // Integrity: queue what has not been verified; report what has.
    if (set.verify) {
      for (const e of entries) {
        if (this.state.data.verified[e.identity] || this.queued.has(e.identity)) continue;
        this.enqueue({ key: e.identity, run: () => this.verify(set, e) });
      }
      const results = entries.map((e) => ({ entry: e, v: this.state.data.verified[e.identity] }));
      const failed = results.filter((x) => x.v && !x.v.ok);
      const pending = results.filter((x) => !x.v);
      r.gauge('creditops_backup_verify_failed_count', 'Retained backups whose integrity check failed.').set(
        L,
        failed.length,
      );
      r.gauge('creditops_backup_verify_pending_count', 'Retained backups not verified yet.').set(
        L,
        pending.length,
      );
      const newestResult = results[0]?.v;
      if (newest && newestResult) {
        r.gauge(
          'creditops_backup_newest_verified',
          'Whether the newest backup passed its integrity check (absent until checked).',
        ).set(L, newestResult.ok ? 1 : 0);
      }
      const judged = newestResult ? results[0] : results.find((x) => x.v);
      if (judged?.v) {
        const evidence = {
          file: judged.entry.path,
          verifiedAt: new Date(judged.v.verifiedAt).toISOString(),
          ...judged.v.evidence,
          failedOlder: failed
            .filter((x) => x !== judged)
            .map((x) => ({ file: x.entry.path, reason: x.v?.reason })),
          pending: pending.length,
        };
        const status: CheckStatus = !judged.v.ok ? 'CRIT' : failed.length > 0 ? 'WARN' : 'OK';
        ctx.report(
          verdict(
            'backup.integrity',
            set.name,
            status,
            !judged.v.ok
              ? `备份 ${judged.entry.name} 校验失败：${judged.v.reason}`
              : failed.length > 0
                ? `最新备份校验通过，但有 ${failed.length} 份较早的备份校验失败。`
                : `备份 ${judged.entry.name} 校验通过。`,
            evidence,
          ),
        );
      }
    }

    // Restore test.
    const rt = set.restoreTest;
    if (rt && DUMP_KINDS.includes(set.kind)) {
      const last = this.state.data.restores[set.name];
      const due = !last || now - last.startedAt >= rt.intervalHours * 3600_000;
      const key = `restore:${set.name}`;
      if (newest && due && !this.queued.has(key)) this.enqueue({ key, run: () => this.restore(set, newest) });
      if (last) {
        r.gauge(
          'creditops_backup_restore_test_success',
          'Whether the last restore test of the set succeeded.',
        ).set(L, last.ok ? 1 : 0);
        r.gauge('creditops_backup_restore_test_timestamp_seconds', 'When the last restore test started.').set(
          L,
          last.startedAt / 1000,
        );
        r.gauge('creditops_backup_restore_test_duration_seconds', 'How long the last restore test took.').set(
          L,
          last.durationSeconds,
        );
        if (last.lastSuccessAt !== undefined) {
          r.gauge(
            'creditops_backup_restore_test_last_success_timestamp_seconds',
            'When a restore test of the set last succeeded.',
          ).set(L, last.lastSuccessAt / 1000);
        }
        ctx.report(
          verdict(
            'backup.restore_test',
            set.name,
            last.ok ? 'OK' : 'CRIT',
            `备份集 ${set.name} 的恢复演练（${new Date(last.startedAt).toISOString()}，用时 ${last.durationSeconds.toFixed(1)} 秒）：${last.reason}`,
            {
              file: last.file,
              database: last.database,
              checks: last.checks,
              dropped: last.dropped,
              durationSeconds: last.durationSeconds,
            },
          ),
        );
      }
    }
    return entries;
  }

  private enqueue(job: Job): void {
    this.queued.add(job.key);
    this.queue.push(job);
    if (!this.running) {
      this.running = this.drain().finally(() => {
        this.running = undefined;
      });
    }
  }

  private async drain(): Promise<void> {
    for (let job = this.queue.shift(); job; job = this.queue.shift()) {
      if (this.abort.signal.aborted) break;
      try {
        await job.run();
      } catch (error) {
        this.log.error({ job: job.key, error: String(error) }, 'backup job failed unexpectedly');
      } finally {
        this.queued.delete(job.key);
      }
      await this.state.save().catch((error: unknown) => {
        this.log.error(
          { file: this.options.stateFile, error: String(error) },
          'cannot save the backup state',
        );
      });
    }
  }

  private async verify(set: SetOptions, entry: BackupEntry): Promise<void> {
    const result = await verifyBackup(entry, {
      kind: set.kind,
      pgBinDir: this.options.pgBinDir,
      timeoutMs: this.options.verifyTimeoutMinutes * 60_000,
      signal: this.abort.signal,
      sha256Manifest: set.sha256Manifest,
      walSegmentBytes: this.options.walSegmentBytes,
    });
    if (this.abort.signal.aborted) return;
    this.counts.verifications++;
    this.state.data.verified[entry.identity] = {
      path: entry.path,
      ok: result.ok,
      reason: result.reason,
      evidence: result.evidence,
      verifiedAt: this.now(),
    };
    const line = { set: set.name, file: entry.path, ok: result.ok, reason: result.reason };
    if (result.ok) this.log.info(line, 'backup verified');
    else this.log.warn(line, 'backup failed verification');
  }

  private async restore(set: SetOptions, entry: BackupEntry): Promise<void> {
    const rt = set.restoreTest!;
    this.log.info({ set: set.name, file: entry.path }, 'restore test started');
    const outcome = await restoreTest(
      set.name,
      set.kind,
      entry,
      {
        scratch: rt.scratch,
        source: rt.source,
        checks: rt.checks,
        timeoutMs: rt.timeoutMinutes * 60_000,
        scratchPrefix: this.options.scratchPrefix,
        pgBinDir: this.options.pgBinDir,
      },
      { env: this.env, now: this.now, signal: this.abort.signal },
    );
    this.counts.restoreTests++;
    const previous = this.state.data.restores[set.name];
    this.state.data.restores[set.name] = {
      ...outcome,
      lastSuccessAt: outcome.ok ? outcome.startedAt : previous?.lastSuccessAt,
    };
    const line = {
      set: set.name,
      file: entry.path,
      ok: outcome.ok,
      reason: outcome.reason,
      seconds: outcome.durationSeconds,
    };
    if (outcome.ok) this.log.info(line, 'restore test passed');
    else this.log.warn(line, 'restore test failed');
  }
}

/** Applies defaults and builds the collector; tests call this with their own env and clock. */
export function createBackupCollector(
  given: Partial<BackupOptions>,
  deps: BackupDeps,
): Collector & {
  idle(): Promise<void>;
  close(): Promise<void>;
  counts: { verifications: number; restoreTests: number };
} {
  const options = Value.Default(BackupOptionsSchema, structuredClone(given)) as BackupOptions;
  const names = new Set<string>();
  for (const s of options.sets) {
    if (names.has(s.name)) throw new Error(`collectors.backup.sets: set name "${s.name}" is used twice`);
    names.add(s.name);
    if (s.restoreTest && !DUMP_KINDS.includes(s.kind)) {
      throw new Error(
        `collectors.backup.sets.${s.name}.restoreTest: only pg_dump sets can be restore-tested, not ${s.kind}`,
      );
    }
  }
  return new BackupCollector(options, deps.log, deps.env ?? process.env, deps.now ?? Date.now);
}

export const backup: CollectorDescriptor<BackupOptions> = {
  name: 'backup',
  description:
    'Backup sets: age, size, retention, free space, integrity (verified once per file) and scheduled restore tests.',
  defaultIntervalSeconds: 300,
  defaultTimeoutSeconds: 60,
  options: BackupOptionsSchema,
  create(options, deps) {
    return createBackupCollector(options, { log: deps.log });
  },
};
