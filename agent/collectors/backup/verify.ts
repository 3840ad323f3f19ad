/**
 * Integrity checks, one per kind of backup. Each reads the whole backup, because a truncated
 * file usually keeps an intact head: pg_restore --list reads only the table of contents of a
 * custom dump, so the data is read through as well (pg_restore --file=/dev/null).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { describeFailure, runTool } from './child.js';
import type { BackupEntry } from './scan.js';

export const BACKUP_KINDS = [
  'pg_dump_custom',
  'pg_dump_plain',
  'pg_dump_gzip',
  'pg_basebackup_tar',
  'wal_archive',
  'log_archive',
] as const;
export type BackupKind = (typeof BACKUP_KINDS)[number];

export interface VerifyResult {
  ok: boolean;
  /** Chinese, one sentence, when not ok. */
  reason?: string;
  /** What was checked (method, entries listed, digest). */
  evidence: Record<string, unknown>;
}

export interface VerifyOptions {
  kind: BackupKind;
  /** Directory holding pg_restore and tar replacements; '' uses PATH. */
  pgBinDir: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** File name of a sha256sum-style manifest next to the backups, or ''. */
  sha256Manifest: string;
  /** Expected size of an uncompressed WAL segment. */
  walSegmentBytes: number;
}

const DUMP_FOOTER = '-- PostgreSQL database dump complete';

function tool(binDir: string, name: string): string {
  return binDir ? join(binDir, name) : name;
}

/** Streams a file through gunzip, keeping the last bytes of the output; fails on a truncated or corrupt file. */
async function gunzipTail(path: string, signal?: AbortSignal): Promise<{ bytes: number; tail: string }> {
  let bytes = 0;
  let tail = '';
  await pipeline(
    createReadStream(path),
    createGunzip(),
    async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) {
        bytes += chunk.length;
        tail = (tail + chunk.toString('latin1')).slice(-512);
      }
    },
    ...(signal ? [{ signal }] : []),
  );
  return { bytes, tail };
}

async function fileTail(path: string, n = 512): Promise<string> {
  const { open } = await import('node:fs/promises');
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const start = Math.max(0, size - n);
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    return buf.toString('latin1');
  } finally {
    await fh.close();
  }
}

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/** The sha256 a manifest (`<hex>  <name>` per line) gives for a file name, if any. */
export function manifestDigest(text: string, name: string): string | undefined {
  for (const line of text.split('\n')) {
    const m = /^([0-9a-fA-F]{64})\s+\*?(.+)$/.exec(line.trim());
    if (m && (m[2] === name || basename(m[2]!) === name)) return m[1]!.toLowerCase();
  }
  return undefined;
}

async function verifyCustom(entry: BackupEntry, o: VerifyOptions): Promise<VerifyResult> {
  const restore = tool(o.pgBinDir, 'pg_restore');
  const list = await runTool(restore, ['--list', entry.path], {
    timeoutMs: o.timeoutMs,
    signal: o.signal,
    keepBytes: 1 << 20,
  });
  if (list.code !== 0) {
    return {
      ok: false,
      reason: describeFailure('pg_restore --list', list, o.timeoutMs),
      evidence: { method: 'pg_restore --list' },
    };
  }
  const tocEntries = list.stdout.split('\n').filter((l) => /^\d+;/.test(l)).length;
  const read = await runTool(restore, ['--file=/dev/null', entry.path], {
    timeoutMs: o.timeoutMs,
    signal: o.signal,
  });
  if (read.code !== 0) {
    return {
      ok: false,
      reason: `目录可读但数据不完整：${describeFailure('pg_restore', read, o.timeoutMs)}`,
      evidence: { method: 'pg_restore --file=/dev/null', tocEntries },
    };
  }
  return { ok: true, evidence: { method: 'pg_restore --list, pg_restore --file=/dev/null', tocEntries } };
}

async function verifyPlain(entry: BackupEntry): Promise<VerifyResult> {
  const tail = await fileTail(entry.path);
  return tail.includes(DUMP_FOOTER)
    ? { ok: true, evidence: { method: 'footer' } }
    : {
        ok: false,
        reason: `文件末尾缺少 pg_dump 的结束标记“${DUMP_FOOTER}”，备份不完整。`,
        evidence: { method: 'footer' },
      };
}

async function verifyGzip(
  entry: BackupEntry,
  o: VerifyOptions,
  expectDumpFooter: boolean,
): Promise<VerifyResult> {
  try {
    const { bytes, tail } = await gunzipTail(entry.path, o.signal);
    if (expectDumpFooter && !tail.includes(DUMP_FOOTER)) {
      return {
        ok: false,
        reason: `解压后末尾缺少 pg_dump 的结束标记，备份不完整。`,
        evidence: { method: 'gunzip, footer', uncompressedBytes: bytes },
      };
    }
    return {
      ok: true,
      evidence: { method: expectDumpFooter ? 'gunzip, footer' : 'gunzip', uncompressedBytes: bytes },
    };
  } catch (error) {
    return {
      ok: false,
      reason: `gzip 校验失败：${error instanceof Error ? error.message : String(error)}`,
      evidence: { method: 'gunzip' },
    };
  }
}

async function listTar(path: string, o: VerifyOptions): Promise<{ names: string[] } | { error: string }> {
  const args = path.endsWith('.gz') ? ['-tzf', path] : ['-tf', path];
  const names: string[] = [];
  let rest = '';
  const r = await runTool('tar', args, {
    timeoutMs: o.timeoutMs,
    signal: o.signal,
    onStdout: (chunk) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      names.push(...lines);
    },
  });
  if (rest) names.push(rest);
  if (r.code !== 0) return { error: describeFailure(`tar ${args[0]} ${basename(path)}`, r, o.timeoutMs) };
  return { names: names.map((n) => n.replace(/^\.\//, '')) };
}

async function verifyBaseBackup(entry: BackupEntry, o: VerifyOptions): Promise<VerifyResult> {
  const files = entry.isDirectory ? (await readdir(entry.path)).sort() : [entry.name];
  const dir = entry.isDirectory ? entry.path : dirname(entry.path);
  const tars = files.filter((f) => /\.tar(\.gz)?$/.test(f));
  if (!tars.some((f) => /^base\.tar(\.gz)?$/.test(f))) {
    return { ok: false, reason: '备份目录中没有 base.tar 或 base.tar.gz。', evidence: { files } };
  }
  const listed: Record<string, number> = {};
  let baseNames: string[] = [];
  for (const t of tars) {
    const r = await listTar(join(dir, t), o);
    if ('error' in r) return { ok: false, reason: r.error, evidence: { method: 'tar listing', files } };
    listed[t] = r.names.length;
    if (t.startsWith('base.')) baseNames = r.names;
  }
  const evidence: Record<string, unknown> = { method: 'tar listing', entries: listed };
  if (files.includes('backup_manifest')) {
    try {
      const manifest = JSON.parse(await readFile(join(dir, 'backup_manifest'), 'utf8')) as {
        Files?: { Path: string }[];
      };
      const inTar = new Set(baseNames);
      // Tablespaces live in their own tars; the manifest's paths under pg_tblspc are not in base.tar.
      const missing = (manifest.Files ?? [])
        .map((f) => f.Path)
        .filter((p) => !p.startsWith('pg_tblspc/') && !inTar.has(p));
      evidence.manifestFiles = manifest.Files?.length ?? 0;
      if (missing.length > 0) {
        return {
          ok: false,
          reason: `backup_manifest 列出的 ${missing.length} 个文件不在 base.tar 中（如 ${missing.slice(0, 3).join('、')}）。`,
          evidence: { ...evidence, missing: missing.slice(0, 20) },
        };
      }
    } catch (error) {
      return {
        ok: false,
        reason: `backup_manifest 无法解析：${error instanceof Error ? error.message : String(error)}`,
        evidence,
      };
    }
  }
  return { ok: true, evidence };
}

async function verifyWal(entry: BackupEntry, o: VerifyOptions): Promise<VerifyResult> {
  if (entry.name.endsWith('.gz')) return verifyGzip(entry, o, false);
  if (/^[0-9A-F]{24}$/.test(entry.name) && entry.size !== o.walSegmentBytes) {
    return {
      ok: false,
      reason: `WAL 段大小为 ${entry.size} 字节，应为 ${o.walSegmentBytes} 字节，可能未完整归档。`,
      evidence: { method: 'segment size', size: entry.size },
    };
  }
  return { ok: true, evidence: { method: 'segment size' } };
}

async function verifyLog(entry: BackupEntry, o: VerifyOptions): Promise<VerifyResult> {
  if (entry.name.endsWith('.gz')) return verifyGzip(entry, o, false);
  return entry.size > 0
    ? { ok: true, evidence: { method: 'non-empty' } }
    : { ok: false, reason: '日志归档文件为空。', evidence: { method: 'non-empty' } };
}

/** Checks one backup; never throws (a failure to check is a failed check with its reason). */
export async function verifyBackup(entry: BackupEntry, o: VerifyOptions): Promise<VerifyResult> {
  try {
    if (o.sha256Manifest && !entry.isDirectory) {
      const text = await readFile(join(dirname(entry.path), o.sha256Manifest), 'utf8').catch(() => undefined);
      const expected = text === undefined ? undefined : manifestDigest(text, entry.name);
      if (expected === undefined) {
        return {
          ok: false,
          reason: `校验清单 ${o.sha256Manifest} 中没有 ${entry.name}。`,
          evidence: { method: 'sha256 manifest' },
        };
      }
      const actual = await sha256(entry.path);
      if (actual !== expected) {
        return {
          ok: false,
          reason: `sha256 与校验清单不符（清单 ${expected.slice(0, 12)}…，实际 ${actual.slice(0, 12)}…）。`,
          evidence: { method: 'sha256 manifest', expected, actual },
        };
      }
    }
    let result: VerifyResult;
    switch (o.kind) {
      case 'pg_dump_custom':
        result = await verifyCustom(entry, o);
        break;
      case 'pg_dump_plain':
        result = await verifyPlain(entry);
        break;
      case 'pg_dump_gzip':
        result = await verifyGzip(entry, o, true);
        break;
      case 'pg_basebackup_tar':
        result = await verifyBaseBackup(entry, o);
        break;
      case 'wal_archive':
        result = await verifyWal(entry, o);
        break;
      case 'log_archive':
        result = await verifyLog(entry, o);
        break;
    }
    if (o.sha256Manifest && !entry.isDirectory) result.evidence.sha256 = 'matches manifest';
    return result;
  } catch (error) {
    return {
      ok: false,
      reason: `无法校验：${error instanceof Error ? error.message : String(error)}`,
      evidence: {},
    };
  }
}
