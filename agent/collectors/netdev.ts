import { join } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { RegexString } from '../../lib/formats.js';
import { DeviceFilter } from './device-filter.js';
import { readKernelFile } from './kernel-file.js';
import { words } from './proc-text.js';
import type { CollectorDescriptor } from './types.js';

/**
 * The 16 columns of /proc/net/dev, named as node_exporter names them when it reads that file
 * (node_network_<name>_total).
 */
export const NETDEV_COLUMNS = [
  'receive_bytes',
  'receive_packets',
  'receive_errs',
  'receive_drop',
  'receive_fifo',
  'receive_frame',
  'receive_compressed',
  'receive_multicast',
  'transmit_bytes',
  'transmit_packets',
  'transmit_errs',
  'transmit_drop',
  'transmit_fifo',
  'transmit_colls',
  'transmit_carrier',
  'transmit_compressed',
] as const;

export interface NetDevice {
  device: string;
  /** In the order of NETDEV_COLUMNS. */
  values: number[];
}

export interface NetDevParse {
  devices: NetDevice[];
  /** Lines that could not be read, with the reason; the other interfaces are still reported. */
  malformed: { line: string; reason: string }[];
}

/**
 * /proc/net/dev. The kernel prints "%6s:" then the numbers, so a long name or a large first
 * counter leaves no space after the colon ("eth0:123"); names cannot contain ":" or whitespace
 * (dev_valid_name), so the first colon ends the name.
 */
export function parseNetDev(text: string): NetDevParse {
  const devices: NetDevice[] = [];
  const malformed: NetDevParse['malformed'] = [];
  const lines = text.split('\n');
  // Two header lines.
  for (let i = 2; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    const colon = line.indexOf(':');
    if (colon < 0) {
      malformed.push({ line, reason: 'no ":" after the interface name' });
      continue;
    }
    const device = line.slice(0, colon).trim();
    const fields = words(line.slice(colon + 1));
    if (device === '' || fields.length !== NETDEV_COLUMNS.length) {
      malformed.push({ line, reason: `expected ${NETDEV_COLUMNS.length} numbers, got ${fields.length}` });
      continue;
    }
    const values = fields.map(Number);
    if (values.some((v) => !Number.isFinite(v))) {
      malformed.push({ line, reason: 'a column is not a number' });
      continue;
    }
    devices.push({ device, values });
  }
  return { devices, malformed };
}

const Options = Type.Object({
  deviceExclude: RegexString({ default: '', description: 'Regular expression of interfaces to leave out.' }),
  deviceInclude: RegexString({
    default: '',
    description: 'Regular expression of the only interfaces to report; empty means all.',
  }),
});
export type NetdevOptions = Static<typeof Options>;

export const netdev: CollectorDescriptor<NetdevOptions> = {
  name: 'netdev',
  description: 'Network interface counters from /proc/net/dev (node_network_*_total).',
  defaultIntervalSeconds: 15,
  defaultTimeoutSeconds: 5,
  options: Options,
  create(given, deps) {
    const options = Value.Default(Options, { ...given }) as NetdevOptions;
    const filter = new DeviceFilter(options.deviceExclude, options.deviceInclude, {
      exclude: 'collectors.netdev.deviceExclude',
      include: 'collectors.netdev.deviceInclude',
    });
    let parseErrors = 0;
    return {
      async collect(ctx) {
        const { devices, malformed } = parseNetDev(await readKernelFile(join(ctx.procRoot, 'net/dev')));
        for (const bad of malformed)
          deps.log.warn({ line: bad.line, reason: bad.reason }, 'skipping a malformed line of /proc/net/dev');
        parseErrors += malformed.length;
        const families = NETDEV_COLUMNS.map((name) =>
          ctx.registry.counter(`node_network_${name}_total`, `Network device statistic ${name}.`),
        );
        // Counters are reported as read, also when lower than last time (a re-created interface,
        // a 32-bit driver counter wrapping): Prometheus' rate() treats a decrease as a reset.
        for (const { device, values } of devices) {
          if (filter.ignored(device)) continue;
          for (let i = 0; i < values.length; i++) families[i]!.set({ device }, values[i]!);
        }
        ctx.registry
          .counter(
            'creditops_netdev_parse_errors_total',
            'Lines of /proc/net/dev skipped because they could not be parsed.',
          )
          .value(parseErrors);
      },
    };
  },
};
