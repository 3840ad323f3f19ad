/**
 * Every collector against the fake host in fixtures/host, compared whole with golden files in
 * __snapshots__/ (update with `npx vitest run agent/collectors -u` and review the diff).
 */
import { fileURLToPath } from 'node:url';
import { Value } from '@sinclair/typebox/value';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { cpu } from './cpu.js';
import { diskstats } from './diskstats.js';
import { filefd } from './filefd.js';
import { createFilesystemCollector } from './filesystem.js';
import { load } from './load.js';
import { memory } from './memory.js';
import { netclass } from './netclass.js';
import { netdev } from './netdev.js';
import { processes } from './processes.js';
import { runOnce } from './run-once.js';
import { stat } from './stat.js';
import { StatfsError, type StatfsResult } from './statfs-process.js';
import { time } from './time.js';
import type { Collector, CollectorDescriptor, HostRoots } from './types.js';
import { vmstat } from './vmstat.js';

const fixture = (name: string): HostRoots => ({
  procRoot: fileURLToPath(new URL(`./fixtures/${name}/proc`, import.meta.url)),
  sysRoot: fileURLToPath(new URL(`./fixtures/${name}/sys`, import.meta.url)),
  rootfs: '/',
});
const host = fixture('host');
const log = pino({ level: 'silent' });
const now = () => 1_717_412_345_678;

/** statfs answers for the fixture's mount points, which do not exist on this machine. */
const FIXTURE_STATFS: Record<string, StatfsResult> = {
  '/': {
    bsize: 4096,
    blocks: 25_000_000,
    bfree: 10_000_000,
    bavail: 8_700_000,
    files: 6_000_000,
    ffree: 5_500_000,
  },
  '/mnt/backup disk': {
    bsize: 4096,
    blocks: 500_000_000,
    bfree: 400_000_000,
    bavail: 400_000_000,
    files: 250_000_000,
    ffree: 249_999_000,
  },
  '/srv/share\\dept': { bsize: 1024, blocks: 1_000_000, bfree: 1000, bavail: 0, files: 65_536, ffree: 10 },
  '/data': {
    bsize: 4096,
    blocks: 25_000_000,
    bfree: 10_000_000,
    bavail: 8_700_000,
    files: 6_000_000,
    ffree: 5_500_000,
  },
  '/run/user/1000': {
    bsize: 4096,
    blocks: 407_599,
    bfree: 407_590,
    bavail: 407_590,
    files: 407_599,
    ffree: 407_570,
  },
  '/mnt/tab\tname': { bsize: 4096, blocks: 100, bfree: 100, bavail: 100, files: 100, ffree: 99 },
  '/opt/ro-remount': { bsize: 4096, blocks: 1000, bfree: 500, bavail: 450, files: 1000, ffree: 900 },
};

async function fixtureStatfs(path: string): Promise<StatfsResult> {
  const answer = FIXTURE_STATFS[path];
  if (answer) return answer;
  throw new StatfsError('EACCES', 'permission denied');
}

/** A descriptor's options with every default applied, as the configuration loader produces them. */
const defaults = <T>(d: CollectorDescriptor<T>): T => Value.Default(d.options, {}) as T;

const simple: [string, Collector][] = [
  ['cpu', cpu.create(defaults(cpu), { log })],
  ['stat', stat.create({}, { log })],
  ['memory', memory.create({}, { log })],
  ['load', load.create({}, { log })],
  ['diskstats', diskstats.create(defaults(diskstats), { log })],
  ['netdev', netdev.create(defaults(netdev), { log })],
  ['netclass', netclass.create(defaults(netclass), { log })],
  ['time', time.create({}, { log })],
  ['filefd', filefd.create({}, { log })],
  ['processes', processes.create(defaults(processes), { log })],
  ['vmstat', vmstat.create(defaults(vmstat), { log })],
];

describe('collectors on fixtures/host', () => {
  for (const [name, collector] of simple) {
    it(`${name} matches its golden file`, async () => {
      const { text } = await runOnce(collector, host, { now });
      await expect(text).toMatchFileSnapshot(`./__snapshots__/${name}.prom`);
    });
  }

  it('filesystem: escapes decoded, pseudo file systems left out, a mount point listed twice reported once', async () => {
    const collector = createFilesystemCollector({}, { log, statfs: fixtureStatfs });
    const { text, families } = await runOnce(collector, host, { now });
    await expect(text).toMatchFileSnapshot('./__snapshots__/filesystem.prom');
    const size = families.find((f) => f.name === 'node_filesystem_size_bytes')!;
    const points = size.samples.map((s) => s.labels.mountpoint);
    expect(points).toContain('/mnt/backup disk');
    expect(points).toContain('/srv/share\\dept');
    expect(points.filter((p) => p === '/data')).toHaveLength(1);
    // Default excludes: /proc, /sys, /dev by mount point; overlay (docker) by type.
    expect(points.some((p) => p?.startsWith('/proc') || p?.startsWith('/sys') || p?.startsWith('/dev'))).toBe(
      false,
    );
    expect(points.some((p) => p?.includes('docker'))).toBe(false);
    // A statfs error is exported with its reason, not hidden.
    expect(text).toContain(
      'node_filesystem_device_error{device="files.example:/export",device_error="permission denied",fstype="nfs4",mountpoint="/mnt/nfs"} 1',
    );
    await collector.close?.();
  });

  it('filesystem: include and exclude options', async () => {
    const collector = createFilesystemCollector(
      { mountPointsInclude: '^/(data|mnt/.*)$', fsTypesExclude: '^(nfs4|tmpfs)$' },
      { log, statfs: fixtureStatfs },
    );
    const { families } = await runOnce(collector, host, { now });
    const points = families
      .find((f) => f.name === 'node_filesystem_device_error')!
      .samples.map((s) => s.labels.mountpoint);
    expect(points).toEqual(['/mnt/backup disk', '/data']);
  });

  it('a bad regular expression fails at creation and names the option', () => {
    expect(() => createFilesystemCollector({ fsTypesInclude: '(' }, { log, statfs: fixtureStatfs })).toThrow(
      'collectors.filesystem.fsTypesInclude',
    );
  });
});

describe('netdev', () => {
  it('skips malformed lines, counts them, and still reports flannel.1 and br-ü.10', async () => {
    const collector = netdev.create(defaults(netdev), { log });
    const { families } = await runOnce(collector, host);
    const bytes = families.find((f) => f.name === 'node_network_receive_bytes_total')!;
    expect(bytes.samples.map((s) => s.labels.device)).toEqual(['lo', 'eth0', 'flannel.1', 'br-ü.10']);
    const errors = families.find((f) => f.name === 'creditops_netdev_parse_errors_total')!;
    expect(errors.samples[0]!.value).toBe(2);
  });

  it('reports a counter that went down as read (Prometheus treats it as a reset); no deltas', async () => {
    const collector = netdev.create(defaults(netdev), { log });
    const first = await runOnce(collector, host);
    const second = await runOnce(collector, fixture('counter-reset'));
    const eth0 = (r: typeof first) =>
      r.families
        .find((f) => f.name === 'node_network_receive_bytes_total')!
        .samples.find((s) => s.labels.device === 'eth0')!.value;
    expect(eth0(first)).toBe(4_294_967_200);
    expect(eth0(second)).toBe(1200);
    for (const family of second.families)
      for (const s of family.samples) expect(s.value).toBeGreaterThanOrEqual(0);
    // The parse error count is cumulative over the collector's life: 2 bad lines, then none.
    expect(
      second.families.find((f) => f.name === 'creditops_netdev_parse_errors_total')!.samples[0]!.value,
    ).toBe(2);
    await expect(second.text).toMatchFileSnapshot('./__snapshots__/netdev-counter-reset.prom');
  });
});

describe('diskstats', () => {
  it('leaves out partitions, loop and RAM disks by default', async () => {
    const { families } = await runOnce(diskstats.create(defaults(diskstats), { log }), host);
    const devices = new Set(families.flatMap((f) => f.samples.map((s) => s.labels.device)));
    expect([...devices]).toEqual(['sda', 'nvme0n1', 'dm-0']);
  });
});
