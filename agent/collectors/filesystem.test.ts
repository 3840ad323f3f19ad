/**
 * The stuck-mount bookkeeping of the filesystem collector, with an injected statfs that never
 * answers for chosen mount points (a hung NFS server, without needing one).
 */
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createFilesystemCollector } from './filesystem.js';
import { runOnce } from './run-once.js';
import type { StatfsResult } from './statfs-process.js';
import type { HostRoots } from './types.js';

const host: HostRoots = {
  procRoot: fileURLToPath(new URL('./fixtures/host/proc', import.meta.url)),
  sysRoot: fileURLToPath(new URL('./fixtures/host/sys', import.meta.url)),
  rootfs: '/',
};
const log = pino({ level: 'silent' });
const OK: StatfsResult = { bsize: 4096, blocks: 100, bfree: 50, bavail: 40, files: 10, ffree: 5 };
/** The fixture's mount points that pass the default filters, in mountinfo order. */
const FIXTURE_MOUNTS = [
  '/',
  '/mnt/backup disk',
  '/srv/share\\dept',
  '/data',
  '/run/user/1000',
  '/mnt/nfs',
  '/mnt/tab\tname',
  '/opt/ro-remount',
];

/** statfs that hangs forever for the given paths, answers at once for the others, and counts calls. */
function hangingStatfs(hung: (path: string) => boolean) {
  const calls = new Map<string, number>();
  const statfs = (path: string): Promise<StatfsResult> => {
    calls.set(path, (calls.get(path) ?? 0) + 1);
    return hung(path) ? new Promise<StatfsResult>(() => {}) : Promise.resolve(OK);
  };
  return { statfs, calls };
}

function deviceErrors(text: string): string[] {
  return text.split('\n').filter((l) => l.startsWith('node_filesystem_device_error{') && l.endsWith(' 1'));
}

describe('filesystem collector with a hung mount', () => {
  it('marks a mount stuck, never asks it again while its call is outstanding, and keeps cycles fast', async () => {
    const { statfs, calls } = hangingStatfs((p) => p === '/mnt/nfs');
    const collector = createFilesystemCollector({ statfsTimeoutSeconds: 0.1 }, { log, statfs });
    const durations: number[] = [];
    for (let cycle = 0; cycle < 20; cycle++) {
      const started = performance.now();
      const { text } = await runOnce(collector, host);
      durations.push(performance.now() - started);
      expect(deviceErrors(text)).toEqual([
        'node_filesystem_device_error{device="files.example:/export",device_error="mountpoint timeout",fstype="nfs4",mountpoint="/mnt/nfs"} 1',
      ]);
      // The healthy mounts are still reported in full every cycle.
      expect(text).toContain(
        'node_filesystem_avail_bytes{device="/dev/sda1",fstype="ext4",mountpoint="/"} 163840',
      );
      expect(text).toContain('creditops_filesystem_statfs_pending 1');
    }
    expect(calls.get('/mnt/nfs')).toBe(1);
    expect(calls.get('/')).toBe(20);
    expect(collector.stats()).toEqual({ pending: 1, stuck: ['/mnt/nfs'], processes: 0, abandoned: 0 });
    // Only the first cycle waited for the deadline.
    expect(durations[0]).toBeGreaterThanOrEqual(90);
    expect(Math.max(...durations.slice(1))).toBeLessThan(90);
  });

  it('becomes healthy again when the late answer arrives', async () => {
    let answer: ((r: StatfsResult) => void) | undefined;
    let calls = 0;
    const collector = createFilesystemCollector(
      { statfsTimeoutSeconds: 0.05, mountPointsInclude: '^/mnt/nfs$' },
      {
        log,
        statfs: () => {
          calls++;
          if (calls === 1) return new Promise((resolve) => (answer = resolve));
          return Promise.resolve(OK);
        },
      },
    );
    const first = await runOnce(collector, host);
    expect(deviceErrors(first.text)).toHaveLength(1);
    expect(collector.stats().stuck).toEqual(['/mnt/nfs']);
    answer!(OK);
    await new Promise((r) => setImmediate(r));
    expect(collector.stats()).toMatchObject({ pending: 0, stuck: [] });
    const second = await runOnce(collector, host);
    expect(deviceErrors(second.text)).toEqual([]);
    expect(second.text).toContain(
      'node_filesystem_device_error{device="files.example:/export",fstype="nfs4",mountpoint="/mnt/nfs"} 0',
    );
    expect(calls).toBe(2);
  });

  it('with more hung mounts than statfsMaxPending: gives up on the worker, then stays bounded', async () => {
    // Every mount but "/" hangs: 7 hung mounts, 2 tolerated, 4 + 2 statfs slots.
    const { statfs, calls } = hangingStatfs((p) => p !== '/');
    const collector = createFilesystemCollector(
      { statfsTimeoutSeconds: 0.05, statfsMaxPending: 2, statfsConcurrency: 4 },
      { log, statfs },
    );
    const pending: number[] = [];
    for (let cycle = 0; cycle < 20; cycle++) {
      const { text } = await runOnce(collector, host);
      pending.push(collector.stats().pending);
      // "/" answers every cycle whatever the others do.
      expect(text).toContain(
        'node_filesystem_device_error{device="/dev/sda1",fstype="ext4",mountpoint="/"} 0',
      );
      expect(deviceErrors(text)).toHaveLength(7);
    }
    const stats = collector.stats();
    expect(stats.abandoned).toBeLessThanOrEqual(2);
    expect(stats.pending).toBeLessThanOrEqual(2);
    expect(stats.stuck).toEqual(FIXTURE_MOUNTS.filter((m) => m !== '/').sort());
    // After the worker was given up on, at most statfsMaxPending calls hang at a time.
    expect(Math.max(...pending.slice(3))).toBeLessThanOrEqual(2);
    // Each hung mount was asked a bounded number of times in 20 cycles, not once per cycle.
    for (const m of FIXTURE_MOUNTS.filter((p) => p !== '/')) expect(calls.get(m) ?? 0).toBeLessThanOrEqual(3);
    const totalHungCalls = [...calls].filter(([p]) => p !== '/').reduce((n, [, c]) => n + c, 0);
    expect(totalHungCalls).toBeLessThanOrEqual(7 + 2 + 2);
  });

  it('stops waiting when the run is aborted', async () => {
    const { statfs } = hangingStatfs((p) => p === '/mnt/nfs');
    const collector = createFilesystemCollector({ statfsTimeoutSeconds: 30 }, { log, statfs });
    const started = performance.now();
    const { text } = await runOnce(collector, host, { signal: AbortSignal.timeout(50) });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(deviceErrors(text)).toHaveLength(1);
  });
});
