/**
 * Finds the backups of a set: the entries of a directory, or of the directory part of a glob whose
 * last path segment holds the wildcards (`*`, `?`), e.g. /backup/pg/credit-*.dump. A backup is a
 * regular file, or for pg_basebackup a directory (base.tar[.gz], pg_wal.tar[.gz], backup_manifest),
 * whose size is the sum of its files and whose time is its newest file's.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface BackupEntry {
  path: string;
  name: string;
  isDirectory: boolean;
  size: number;
  mtimeMs: number;
  /** dev:ino:size:mtime — the same backup keeps it, a rewritten one gets a new one. */
  identity: string;
}

export function splitPattern(path: string): { dir: string; pattern: RegExp | undefined } {
  const last = basename(path);
  if (/[*?]/.test(dirname(path))) {
    throw new Error(`backup path "${path}": wildcards are allowed in the last path segment only`);
  }
  if (!/[*?]/.test(last)) return { dir: path, pattern: undefined };
  const source = last
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return { dir: dirname(path), pattern: new RegExp(`^${source}$`) };
}

export async function scanSet(path: string, wantDirectories: boolean): Promise<BackupEntry[]> {
  const { dir, pattern } = splitPattern(path);
  const names = await readdir(dir, { withFileTypes: true });
  const out: BackupEntry[] = [];
  for (const d of names) {
    if (pattern && !pattern.test(d.name)) continue;
    // Files being written by common tools, and our own sidecars.
    if (d.name.startsWith('.') || d.name.endsWith('.tmp') || d.name.endsWith('.partial')) continue;
    const full = join(dir, d.name);
    const st = await stat(full).catch(() => undefined);
    if (!st) continue;
    if (wantDirectories) {
      if (!st.isDirectory()) continue;
      let size = 0;
      let mtimeMs = 0;
      for (const f of await readdir(full, { withFileTypes: true })) {
        if (!f.isFile()) continue;
        const fst = await stat(join(full, f.name)).catch(() => undefined);
        if (!fst) continue;
        size += fst.size;
        mtimeMs = Math.max(mtimeMs, fst.mtimeMs);
      }
      out.push({
        path: full,
        name: d.name,
        isDirectory: true,
        size,
        mtimeMs: mtimeMs || st.mtimeMs,
        identity: `${st.dev}:${st.ino}:${size}:${Math.round(mtimeMs || st.mtimeMs)}`,
      });
    } else {
      if (!st.isFile()) continue;
      out.push({
        path: full,
        name: d.name,
        isDirectory: false,
        size: st.size,
        mtimeMs: st.mtimeMs,
        identity: `${st.dev}:${st.ino}:${st.size}:${Math.round(st.mtimeMs)}`,
      });
    }
  }
  // Newest first; the name breaks ties (timestamps in names sort).
  return out.sort((a, b) => b.mtimeMs - a.mtimeMs || b.name.localeCompare(a.name));
}
