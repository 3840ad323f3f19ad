// The backup collector on real pg_dump (custom, plain, gzip) and pg_basebackup (tar) output of a
// real PostgreSQL 15, with restore tests into scratch databases on the same server.

import { createHash } from 'node:crypto';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clientBin,
  DEBIAN_PG_BIN,
  hasServer,
  type PgServer,
  run,
  startPostgres,
} from '../../../test/helpers/postgres.js';
import { capturedLog, collectOnce, samples, value, verdictOf } from '../postgres/test-kit.js';
import { type BackupOptions, backup, createBackupCollector } from './collector.js';
import { splitPattern } from './scan.js';
import { manifestDigest } from './verify.js';

const available = hasServer(15);
let server: PgServer;
let root: string;
const dirs: Record<string, string> = {};

function dir(name: string): string {
  dirs[name] ??= join(root, name);
  mkdirSync(dirs[name], { recursive: true });
  return dirs[name];
}

function setMtime(path: string, hoursAgo: number): void {
  const t = new Date(Date.now() - hoursAgo * 3600_000);
  utimesSync(path, t, t);
}

function truncateTo(path: string, fraction: number): void {
  const size = readFileSync(path).length;
  truncateSync(path, Math.floor(size * fraction));
}

async function pgDump(database: string, args: string[], file?: string): Promise<string> {
  const { stdout } = await run(clientBin('pg_dump'), [
    '-h',
    '127.0.0.1',
    '-p',
    String(server.port),
    '-U',
    'postgres',
    ...args,
    ...(file ? ['-f', file] : []),
    database,
  ]);
  return stdout;
}

beforeAll(async () => {
  if (!available) return;
  root = mkdtempSync(join(tmpdir(), 'creditops-backup-'));
  server = await startPostgres({ major: 15 });
  await server.query('CREATE DATABASE credit');
  await server.query('CREATE DATABASE tiny');
  await server.query(
    `CREATE TABLE codes (code text PRIMARY KEY); INSERT INTO codes SELECT 'c' || g FROM generate_series(1, 300) g;
     CREATE TABLE subjects (id int PRIMARY KEY, name text, note text);
     INSERT INTO subjects SELECT g, '主体 ' || g, repeat('x', 200) FROM generate_series(1, 5000) g;`,
    [],
    'credit',
  );
  await server.query('CREATE TABLE t (x int); INSERT INTO t VALUES (1)', [], 'tiny');

  // daily: two custom dumps, yesterday's and today's, found through a glob.
  const daily = dir('daily');
  await pgDump('credit', ['-Fc'], join(daily, 'credit-20250101.dump'));
  setMtime(join(daily, 'credit-20250101.dump'), 24);
  await pgDump('credit', ['-Fc'], join(daily, 'credit-20250102.dump'));
  writeFileSync(join(daily, 'notes.txt'), 'not a dump');
  // The source grows after the dump: a restore test comparing subjects must notice.
  await server.query(
    "INSERT INTO subjects SELECT g, '主体 ' || g, '' FROM generate_series(5001, 6500) g",
    [],
    'credit',
  );

  // truncated: the newest custom dump cut at 70 %: its table of contents is intact, its data is not.
  copyFileSync(join(daily, 'credit-20250102.dump'), join(dir('truncated'), 'credit.dump'));
  truncateTo(join(dirs.truncated!, 'credit.dump'), 0.7);

  // plain and gzip, each with a good and a truncated copy.
  const plain = await pgDump('credit', ['-Fp']);
  writeFileSync(join(dir('plain'), 'credit.sql'), plain);
  writeFileSync(join(dir('plain-cut'), 'credit.sql'), plain.slice(0, Math.floor(plain.length * 0.8)));
  const gz = gzipSync(Buffer.from(plain));
  writeFileSync(join(dir('gzip'), 'credit.sql.gz'), gz);
  writeFileSync(join(dir('gzip-cut'), 'credit.sql.gz'), gz.subarray(0, Math.floor(gz.length * 0.8)));

  // base: a pg_basebackup in tar format (compressed, with its manifest), and a truncated copy.
  await run(clientBin('pg_basebackup'), [
    '-h',
    '127.0.0.1',
    '-p',
    String(server.port),
    '-U',
    'postgres',
    '-D',
    join(dir('base'), '20250102'),
    '-Ft',
    '-z',
    '-X',
    'fetch',
    '-c',
    'fast',
  ]);
  mkdirSync(join(dir('base-cut'), '20250102'));
  for (const f of ['base.tar.gz', 'backup_manifest']) {
    copyFileSync(join(dirs.base!, '20250102', f), join(dirs['base-cut']!, '20250102', f));
  }
  truncateTo(join(dirs['base-cut']!, '20250102', 'base.tar.gz'), 0.5);

  // stale: three days old. shrunk: today's dump is of a nearly empty database.
  copyFileSync(join(daily, 'credit-20250102.dump'), join(dir('stale'), 'credit.dump'));
  setMtime(join(dirs.stale!, 'credit.dump'), 72);
  copyFileSync(join(daily, 'credit-20250102.dump'), join(dir('shrunk'), 'credit-1.dump'));
  setMtime(join(dirs.shrunk!, 'credit-1.dump'), 24);
  await pgDump('tiny', ['-Fc'], join(dirs.shrunk!, 'credit-2.dump'));

  // sha256: a manifest that matches one dump and not the other.
  const signed = dir('signed');
  copyFileSync(join(daily, 'credit-20250101.dump'), join(signed, 'a.dump'));
  copyFileSync(join(daily, 'credit-20250102.dump'), join(signed, 'b.dump'));
  setMtime(join(signed, 'a.dump'), 24);
  const digest = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
  writeFileSync(
    join(signed, 'SHA256SUMS'),
    `${digest(join(signed, 'a.dump'))}  a.dump\n${'0'.repeat(64)}  b.dump\n`,
  );
}, 90_000);

afterAll(async () => {
  await server?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

function sets(): BackupOptions['sets'] {
  const scratch = { host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres' };
  const source = { ...scratch, database: 'credit' };
  const common = { maxAgeHours: 26, minCount: 1, shrinkWarnRatio: 0.5, verify: true, sha256Manifest: '' };
  return [
    {
      ...common,
      name: 'daily',
      path: join(dirs.daily!, 'credit-*.dump'),
      kind: 'pg_dump_custom',
      restoreTest: {
        scratch,
        source,
        intervalHours: 24,
        timeoutMinutes: 5,
        checks: [
          { name: '代码表行数', sql: 'SELECT count(*) FROM codes', compareWithSource: true, tolerance: 0 },
          {
            name: '信用主体不少于 1000',
            sql: 'SELECT count(*) FROM subjects',
            compareWithSource: false,
            tolerance: 0,
            min: 1000,
          },
        ],
      },
    },
    {
      ...common,
      name: 'drifted',
      path: join(dirs.daily!, 'credit-*.dump'),
      kind: 'pg_dump_custom',
      restoreTest: {
        scratch,
        source,
        intervalHours: 24,
        timeoutMinutes: 5,
        checks: [
          {
            name: '信用主体数',
            sql: 'SELECT count(*) FROM subjects',
            compareWithSource: true,
            tolerance: 0.05,
          },
        ],
      },
    },
    {
      ...common,
      name: 'slow',
      path: join(dirs.daily!, 'credit-*.dump'),
      kind: 'pg_dump_custom',
      // 3 ms: pg_restore is killed at its timeout.
      restoreTest: { scratch, intervalHours: 24, timeoutMinutes: 0.00005, checks: [] },
    },
    {
      ...common,
      name: 'gzip-restore',
      path: dirs.gzip!,
      kind: 'pg_dump_gzip',
      restoreTest: {
        scratch,
        source,
        intervalHours: 24,
        timeoutMinutes: 5,
        checks: [
          { name: '代码表行数', sql: 'SELECT count(*) FROM codes', compareWithSource: true, tolerance: 0 },
        ],
      },
    },
    { ...common, name: 'truncated', path: dirs.truncated!, kind: 'pg_dump_custom' },
    { ...common, name: 'plain', path: dirs.plain!, kind: 'pg_dump_plain' },
    { ...common, name: 'plain-cut', path: dirs['plain-cut']!, kind: 'pg_dump_plain' },
    { ...common, name: 'gzip-cut', path: dirs['gzip-cut']!, kind: 'pg_dump_gzip' },
    { ...common, name: 'base', path: dirs.base!, kind: 'pg_basebackup_tar' },
    { ...common, name: 'base-cut', path: dirs['base-cut']!, kind: 'pg_basebackup_tar' },
    { ...common, name: 'stale', path: dirs.stale!, kind: 'pg_dump_custom' },
    { ...common, name: 'shrunk', path: dirs.shrunk!, kind: 'pg_dump_custom', minCount: 3 },
    { ...common, name: 'signed', path: dirs.signed!, kind: 'pg_dump_custom', sha256Manifest: 'SHA256SUMS' },
    { ...common, name: 'missing', path: join(root, 'does-not-exist'), kind: 'pg_dump_custom' },
  ] as BackupOptions['sets'];
}

describe('helpers', () => {
  it('splits a glob into its directory and a pattern for the last segment only', () => {
    expect(splitPattern('/backup/pg').pattern).toBeUndefined();
    const { dir: d, pattern } = splitPattern('/backup/pg/credit-*.dump');
    expect(d).toBe('/backup/pg');
    expect(pattern?.test('credit-2025.dump')).toBe(true);
    expect(pattern?.test('credit-2025.dump.tmp')).toBe(false);
    expect(() => splitPattern('/backup/*/x.dump')).toThrow(/last path segment only/);
  });

  it('reads sha256sum manifests, binary marker included', () => {
    const h = 'a'.repeat(64);
    expect(manifestDigest(`${h}  x.dump\n`, 'x.dump')).toBe(h);
    expect(manifestDigest(`${h} *dir/x.dump\n`, 'x.dump')).toBe(h);
    expect(manifestDigest(`${h}  y.dump\n`, 'x.dump')).toBeUndefined();
  });

  it('the descriptor is named backup and does nothing without sets', async () => {
    expect(backup.name).toBe('backup');
    const { log } = capturedLog();
    const c = backup.create({ stateFile: join(tmpdir(), 'creditops-unused.json') } as BackupOptions, { log });
    expect((await collectOnce(c, log)).families).toEqual([]);
  });
});

describe.runIf(available)('backup sets of a real PostgreSQL 15', () => {
  let stateFile: string;
  let first: Awaited<ReturnType<typeof collectOnce>>;
  let collector: ReturnType<typeof createBackupCollector>;
  const logged = capturedLog();

  beforeAll(async () => {
    stateFile = join(root, 'state', 'backup-state.json');
    collector = createBackupCollector(
      { sets: sets(), stateFile, pgBinDir: DEBIAN_PG_BIN },
      { log: logged.log, env: {} },
    );
    await collectOnce(collector, logged.log); // queues verifications and restore tests
    await collector.idle();
    first = await collectOnce(collector, logged.log);
  }, 90_000);
  afterAll(async () => collector?.close());

  it('reports age, size, count and room for the next backup', () => {
    const L = { set: 'daily', backup_kind: 'pg_dump_custom' };
    expect(value(first, 'creditops_backup_count', L)).toBe(2); // notes.txt does not match the glob
    expect(value(first, 'creditops_backup_newest_age_seconds', L)).toBeLessThan(600);
    expect(value(first, 'creditops_backup_newest_size_bytes', L)).toBeGreaterThan(10_000);
    expect(value(first, 'creditops_backup_max_age_seconds', L)).toBe(26 * 3600);
    expect(value(first, 'creditops_backup_volume_avail_bytes', L)).toBeGreaterThan(0);
    expect(value(first, 'creditops_backup_next_size_estimate_bytes', L)).toBeGreaterThan(10_000);
    expect(verdictOf(first, 'backup.freshness', 'daily')?.status).toBe('OK');
    expect(verdictOf(first, 'backup.space', 'daily')?.status).toBe('OK');
  });

  it('verifies every kind once, and catches truncated dumps, gzip files and base backups', () => {
    for (const set of ['daily', 'plain', 'base', 'gzip-restore']) {
      expect(verdictOf(first, 'backup.integrity', set)?.status, set).toBe('OK');
      expect(value(first, 'creditops_backup_newest_verified', { set })).toBe(1);
    }
    const truncated = verdictOf(first, 'backup.integrity', 'truncated')!;
    expect(truncated.status).toBe('CRIT');
    expect(truncated.summary).toContain('数据不完整'); // pg_restore --list alone would have passed it
    expect(verdictOf(first, 'backup.integrity', 'plain-cut')?.summary).toContain('结束标记');
    expect(verdictOf(first, 'backup.integrity', 'gzip-cut')?.summary).toMatch(/gzip 校验失败/);
    expect(verdictOf(first, 'backup.integrity', 'base-cut')?.summary).toMatch(/tar -tzf base\.tar\.gz/);
    expect(value(first, 'creditops_backup_newest_verified', { set: 'truncated' })).toBe(0);
    const signed = verdictOf(first, 'backup.integrity', 'signed')!;
    expect(signed.status).toBe('CRIT'); // b.dump is the newest and its digest is wrong
    expect(signed.summary).toContain('sha256');
    expect(value(first, 'creditops_backup_verify_failed_count', { set: 'signed' })).toBe(1);
    expect(value(first, 'creditops_backup_count', { set: 'signed' })).toBe(2); // the manifest is not a backup
  });

  it('calls a set older than its schedule CRIT, a missing one CRIT, and a sudden shrink a finding', () => {
    const stale = verdictOf(first, 'backup.freshness', 'stale')!;
    expect(stale.status).toBe('CRIT');
    expect(stale.summary).toContain('超过计划的 26 小时');
    expect(verdictOf(first, 'backup.freshness', 'missing')?.status).toBe('CRIT');
    expect(value(first, 'creditops_backup_scan_success', { set: 'missing' })).toBe(0);
    const shrunk = verdictOf(first, 'backup.size', 'shrunk')!;
    expect(shrunk.status).toBe('WARN');
    expect(value(first, 'creditops_backup_size_change_ratio', { set: 'shrunk' })).toBeLessThan(-0.5);
    expect(verdictOf(first, 'backup.freshness', 'shrunk')?.status).toBe('WARN'); // 2 retained, 3 wanted
  });

  it('reports a successful and two failing restore tests with their reasons, and drops the scratch databases', async () => {
    const ok = verdictOf(first, 'backup.restore_test', 'daily')!;
    expect(ok.status, ok.summary).toBe('OK');
    expect(ok.summary).toContain('2 项核对全部通过');
    expect(value(first, 'creditops_backup_restore_test_success', { set: 'daily' })).toBe(1);
    expect(value(first, 'creditops_backup_restore_test_duration_seconds', { set: 'daily' })).toBeGreaterThan(
      0,
    );
    expect(
      samples(first, 'creditops_backup_restore_test_last_success_timestamp_seconds', { set: 'daily' }),
    ).toHaveLength(1);
    expect(verdictOf(first, 'backup.restore_test', 'gzip-restore')?.status).toBe('OK');

    const drifted = verdictOf(first, 'backup.restore_test', 'drifted')!;
    expect(drifted.status).toBe('CRIT');
    expect(drifted.summary).toContain('恢复后为 5000，源库为 6500');
    expect(value(first, 'creditops_backup_restore_test_success', { set: 'drifted' })).toBe(0);

    const slow = verdictOf(first, 'backup.restore_test', 'slow')!;
    expect(slow.status).toBe('CRIT');
    expect(slow.summary).toMatch(/pg_restore 超过 \d+ 秒未完成，已终止/);
    expect(slow.details?.evidence).toMatchObject({ dropped: true });

    const left = await server.query(
      "SELECT datname FROM pg_database WHERE datname LIKE 'creditops_restore_%'",
    );
    expect(left).toEqual([]);
  });

  it('remembers verifications and restore tests across cycles and restarts', async () => {
    const before = collector.counts.verifications;
    expect(before).toBeGreaterThanOrEqual(14);
    await collectOnce(collector, logged.log);
    await collector.idle();
    expect(collector.counts.verifications).toBe(before);
    expect(collector.counts.restoreTests).toBe(4);

    const { log } = capturedLog();
    const restarted = createBackupCollector(
      { sets: sets(), stateFile, pgBinDir: DEBIAN_PG_BIN },
      { log, env: {} },
    );
    const again = await collectOnce(restarted, log);
    await restarted.idle();
    expect(restarted.counts).toEqual({ verifications: 0, restoreTests: 0 });
    expect(verdictOf(again, 'backup.integrity', 'truncated')?.status).toBe('CRIT');
    expect(verdictOf(again, 'backup.restore_test', 'daily')?.status).toBe('OK');
    await restarted.close();
  });

  it('verifies a backup again when it is rewritten', async () => {
    const { log } = capturedLog();
    const c = createBackupCollector(
      { sets: sets().filter((s) => s.name === 'plain'), stateFile, pgBinDir: DEBIAN_PG_BIN },
      { log, env: {} },
    );
    await collectOnce(c, log);
    await c.idle();
    expect(c.counts.verifications).toBe(0);
    const file = join(dirs.plain!, 'credit.sql');
    writeFileSync(file, readFileSync(file, 'utf8').replace('-- PostgreSQL database dump complete', '-- cut'));
    await collectOnce(c, log);
    await c.idle();
    expect(c.counts.verifications).toBe(1);
    expect(verdictOf(await collectOnce(c, log), 'backup.integrity', 'plain')?.status).toBe('CRIT');
    await c.close();
  });
});
