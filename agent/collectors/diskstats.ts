import { join } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { RegexString } from '../../lib/formats.js';
import { DeviceFilter } from './device-filter.js';
import { readKernelFile } from './kernel-file.js';
import { words } from './proc-text.js';
import type { CollectorDescriptor } from './types.js';

/** node_exporter's default: partitions, RAM disks, loop devices and floppies. */
export const DEFAULT_DISK_EXCLUDE = '^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\\d+n\\d+p)\\d+$';

/** Sectors in /proc/diskstats are always 512 bytes, whatever the device's block size. */
const SECTOR_BYTES = 512;
/** Times in /proc/diskstats are in milliseconds. */
const MS = 1 / 1000;

/**
 * The /proc/diskstats columns after major, minor and name, in kernel order (see the kernel's
 * Documentation/admin-guide/iostats.rst): the metric, its type, its help and its scale.
 */
const COLUMNS: [name: string, type: 'counter' | 'gauge', help: string, scale: number][] = [
  ['reads_completed_total', 'counter', 'The total number of reads completed successfully.', 1],
  ['reads_merged_total', 'counter', 'The total number of reads merged.', 1],
  ['read_bytes_total', 'counter', 'The total number of bytes read successfully.', SECTOR_BYTES],
  ['read_time_seconds_total', 'counter', 'The total number of seconds spent by all reads.', MS],
  ['writes_completed_total', 'counter', 'The total number of writes completed successfully.', 1],
  ['writes_merged_total', 'counter', 'The number of writes merged.', 1],
  ['written_bytes_total', 'counter', 'The total number of bytes written successfully.', SECTOR_BYTES],
  ['write_time_seconds_total', 'counter', 'This is the total number of seconds spent by all writes.', MS],
  ['io_now', 'gauge', 'The number of I/Os currently in progress.', 1],
  ['io_time_seconds_total', 'counter', 'Total seconds spent doing I/Os.', MS],
  ['io_time_weighted_seconds_total', 'counter', 'The weighted # of seconds spent doing I/Os.', MS],
  ['discards_completed_total', 'counter', 'The total number of discards completed successfully.', 1],
  ['discards_merged_total', 'counter', 'The total number of discards merged.', 1],
  ['discarded_sectors_total', 'counter', 'The total number of sectors discarded successfully.', 1],
  ['discard_time_seconds_total', 'counter', 'This is the total number of seconds spent by all discards.', MS],
  ['flush_requests_total', 'counter', 'The total number of flush requests completed successfully', 1],
  [
    'flush_requests_time_seconds_total',
    'counter',
    'This is the total number of seconds spent by all flush requests.',
    MS,
  ],
];

export interface DiskStats {
  device: string;
  major: number;
  minor: number;
  /** Raw columns as the kernel prints them (4, 11, 15 or 17 of them depending on its version). */
  values: number[];
}

export function parseDiskstats(text: string): DiskStats[] {
  const out: DiskStats[] = [];
  for (const line of text.split('\n')) {
    const fields = words(line);
    if (fields.length < 7) continue;
    const values: number[] = [];
    for (let i = 3; i < fields.length && values.length < COLUMNS.length; i++) values.push(Number(fields[i]));
    if (values.some((v) => !Number.isFinite(v))) continue;
    out.push({ major: Number(fields[0]), minor: Number(fields[1]), device: fields[2]!, values });
  }
  return out;
}

const Options = Type.Object({
  deviceExclude: RegexString({
    default: DEFAULT_DISK_EXCLUDE,
    description:
      'Regular expression of devices to leave out (node_exporter --collector.diskstats.device-exclude).',
  }),
  deviceInclude: RegexString({
    default: '',
    description: 'Regular expression of the only devices to report; empty means all.',
  }),
});
export type DiskstatsOptions = Static<typeof Options>;

export const diskstats: CollectorDescriptor<DiskstatsOptions> = {
  name: 'diskstats',
  description: 'Block device I/O statistics from /proc/diskstats (node_disk_*).',
  defaultIntervalSeconds: 15,
  defaultTimeoutSeconds: 5,
  options: Options,
  create(given) {
    const options = Value.Default(Options, { ...given }) as DiskstatsOptions;
    const filter = new DeviceFilter(options.deviceExclude, options.deviceInclude, {
      exclude: 'collectors.diskstats.deviceExclude',
      include: 'collectors.diskstats.deviceInclude',
    });
    return {
      async collect(ctx) {
        const disks = parseDiskstats(await readKernelFile(join(ctx.procRoot, 'diskstats')));
        const families = COLUMNS.map(([name, type, help]) =>
          ctx.registry.declare(`node_disk_${name}`, type, help),
        );
        for (const disk of disks) {
          if (filter.ignored(disk.device)) continue;
          for (let i = 0; i < disk.values.length; i++) {
            families[i]!.set({ device: disk.device }, disk.values[i]! * COLUMNS[i]![3]);
          }
        }
      },
    };
  },
};
