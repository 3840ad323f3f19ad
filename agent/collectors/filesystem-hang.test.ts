/**
 * A real hung mount: a FUSE file system whose daemon never answers the kernel's INIT request, so
 * every statfs on it blocks (killably) until the connection is aborted. Needs root and /dev/fuse.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFilesystemCollector } from './filesystem.js';
import { load } from './load.js';
import { memory } from './memory.js';
import { runOnce } from './run-once.js';
import { StatfsError, StatfsProcess } from './statfs-process.js';
import type { HostRoots } from './types.js';

const log = pino({ level: 'silent' });
const real: HostRoots = { procRoot: '/proc', sysRoot: '/sys', rootfs: '/' };

const skipReason =
  process.getuid?.() !== 0
    ? 'needs root to mount FUSE'
    : !existsSync('/dev/fuse')
      ? '/dev/fuse is missing'
      : undefined;
if (skipReason) console.warn(`filesystem-hang.test.ts: skipping the real hung-mount tests: ${skipReason}`);

interface HungMount {
  dir: string;
  fd: number;
}

/** Mounts a FUSE file system at dir and never serves it: the kernel's INIT stays unanswered. */
async function mountHung(dir: string): Promise<HungMount> {
  await mkdir(dir, { recursive: true });
  const fd = openSync('/dev/fuse', 'r+');
  const mount = spawn(
    'mount',
    ['-i', '-t', 'fuse', '-o', 'fd=3,rootmode=40000,user_id=0,group_id=0', 'creditops-hang', dir],
    { stdio: ['ignore', 'pipe', 'pipe', fd] },
  );
  let output = '';
  mount.stdout?.on('data', (c) => (output += c));
  mount.stderr?.on('data', (c) => (output += c));
  const code = await new Promise<number | null>((resolve) => mount.on('exit', resolve));
  if (code !== 0) {
    closeSync(fd);
    throw new Error(`mount of a FUSE file system at ${dir} failed (${code}): ${output}`);
  }
  return { dir, fd };
}

/** Closing the device aborts the connection (blocked calls fail with ENOTCONN); then unmount. */
async function unmount(m: HungMount): Promise<void> {
  closeSync(m.fd);
  await new Promise((resolve) => spawn('umount', ['-l', m.dir], { stdio: 'ignore' }).on('exit', resolve));
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe.skipIf(skipReason !== undefined)('filesystem collector with a real hung FUSE mount', () => {
  let base: string;
  const mounts: HungMount[] = [];

  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'creditops fuse '));
    // A space in the mount point: mountinfo shows it as \040.
    for (const name of ['hung mount', 'hung-2', 'hung-3']) mounts.push(await mountHung(join(base, name)));
  });

  afterAll(async () => {
    for (const m of mounts) await unmount(m);
    rmSync(base, { recursive: true, force: true });
  });

  it('statfs in the worker process answers normal paths and reports errors with their errno', async () => {
    const worker = new StatfsProcess({ threads: 2, log });
    try {
      const root = await worker.statfs('/');
      expect(root.blocks).toBeGreaterThan(0);
      await expect(worker.statfs('/no/such/dir')).rejects.toEqual(
        new StatfsError('ENOENT', 'no such file or directory'),
      );
      expect(worker.processes()).toBe(1);
    } finally {
      await worker.close();
    }
    expect(worker.processes()).toBe(0);
  });

  it('20 cycles: one outstanding call for the hung mount, one worker, other collectors on time', async () => {
    const hung = mounts[0]!;
    const collector = createFilesystemCollector(
      { statfsTimeoutSeconds: 0.5, mountPointsInclude: `^(/|${escapeRegex(hung.dir)})$` },
      { log },
    );
    const others = [memory.create({}, { log }), load.create({}, { log })];
    try {
      const durations: number[] = [];
      for (let cycle = 0; cycle < 20; cycle++) {
        const started = performance.now();
        // The other collectors, and the agent's own fs calls, run while statfs hangs.
        const [fsRun, ...otherRuns] = await Promise.all([
          runOnce(collector, real),
          ...others.map(async (c) => {
            const t = performance.now();
            await runOnce(c, real);
            return performance.now() - t;
          }),
          (async () => {
            const t = performance.now();
            await Promise.all(
              Array.from({ length: 16 }, () => readFile('/proc/loadavg', 'utf8').then(() => stat('/'))),
            );
            return performance.now() - t;
          })(),
        ]);
        durations.push(performance.now() - started);
        for (const ms of otherRuns as number[]) expect(ms).toBeLessThan(250);
        const { text } = fsRun as Awaited<ReturnType<typeof runOnce>>;
        expect(text).toContain(
          `node_filesystem_device_error{device="creditops-hang",device_error="mountpoint timeout",fstype="fuse",mountpoint="${hung.dir}"} 1`,
        );
        expect(text).toMatch(
          /node_filesystem_size_bytes\{device="[^"]+",fstype="[^"]+",mountpoint="\/"\} [1-9]/,
        );
        const stats = collector.stats();
        expect(stats.pending).toBe(1);
        expect(stats.processes).toBe(1);
      }
      expect(durations[0]).toBeGreaterThanOrEqual(450);
      expect(Math.max(...durations.slice(1))).toBeLessThan(450);
    } finally {
      await collector.close?.();
    }
  });

  it('three hung mounts and statfsMaxPending 1: the worker is killed and replaced, processes stay bounded', async () => {
    const pattern = `^(/|${mounts.map((m) => escapeRegex(m.dir)).join('|')})$`;
    const collector = createFilesystemCollector(
      { statfsTimeoutSeconds: 0.3, statfsMaxPending: 1, statfsConcurrency: 2, mountPointsInclude: pattern },
      { log },
    );
    try {
      for (let cycle = 0; cycle < 20; cycle++) {
        const { text } = await runOnce(collector, real);
        for (const m of mounts) expect(text).toContain(`mountpoint="${m.dir}"} 1`);
        expect(text).toMatch(
          /node_filesystem_size_bytes\{device="[^"]+",fstype="[^"]+",mountpoint="\/"\} [1-9]/,
        );
        const stats = collector.stats();
        expect(stats.processes).toBeLessThanOrEqual(2);
        expect(stats.pending).toBeLessThanOrEqual(mounts.length);
      }
      const stats = collector.stats();
      expect(stats.abandoned).toBeGreaterThanOrEqual(1);
      expect(stats.abandoned).toBeLessThanOrEqual(3);
      expect(stats.pending).toBeLessThanOrEqual(1);
      expect(stats.stuck).toHaveLength(3);
    } finally {
      await collector.close?.();
    }
  });
});
