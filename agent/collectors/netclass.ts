import { join } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { RegexString } from '../../lib/formats.js';
import { DeviceFilter } from './device-filter.js';
import { listKernelDir, readKernelFile } from './kernel-file.js';
import type { CollectorDescriptor } from './types.js';

/** IFF_UP in include/uapi/linux/if.h: the administrative state. */
const IFF_UP = 0x1;

export interface NetClassDevice {
  device: string;
  operstate: string;
  address: string;
  /** "up" or "down" from the IFF_UP flag, "unknown" when the flags could not be read. */
  adminstate: string;
  broadcast: string;
  /** Empty where the driver has no duplex (virtual interfaces answer EINVAL). */
  duplex: string;
  ifalias: string;
  mtu: number | undefined;
}

async function readAttributes(dir: string, names: readonly string[]): Promise<(string | undefined)[]> {
  return Promise.all(
    names.map((f) =>
      readKernelFile(join(dir, f)).then(
        (t) => t.trim(),
        () => undefined,
      ),
    ),
  );
}

type SlowAttributes = Pick<NetClassDevice, 'address' | 'broadcast' | 'duplex' | 'ifalias' | 'mtu'>;

async function readSlowAttributes(dir: string): Promise<SlowAttributes> {
  const [address, broadcast, duplex, ifalias, mtu] = await readAttributes(dir, [
    'address',
    'broadcast',
    'duplex',
    'ifalias',
    'mtu',
  ]);
  return {
    address: address ?? '',
    broadcast: broadcast ?? '',
    duplex: duplex ?? '',
    ifalias: ifalias ?? '',
    mtu: mtu === undefined || !Number.isFinite(Number(mtu)) ? undefined : Number(mtu),
  };
}

/**
 * One interface of /sys/class/net: the attribute files node_network_info and the mtu need;
 * attributes the driver does not provide are left empty, as node_exporter does. `slow` holds the
 * attributes that change only when someone reconfigures the interface, read earlier.
 */
export async function readNetClassDevice(
  sysRoot: string,
  device: string,
  slow?: SlowAttributes,
): Promise<NetClassDevice> {
  const dir = join(sysRoot, 'class/net', device);
  const [operstate, flags] = await readAttributes(dir, ['operstate', 'flags']);
  const flagBits = flags === undefined ? Number.NaN : Number.parseInt(flags, 16);
  return {
    device,
    operstate: operstate ?? '',
    adminstate: Number.isNaN(flagBits) ? 'unknown' : flagBits & IFF_UP ? 'up' : 'down',
    ...(slow ?? (await readSlowAttributes(dir))),
  };
}

const Options = Type.Object({
  deviceExclude: RegexString({ default: '', description: 'Regular expression of interfaces to leave out.' }),
  deviceInclude: RegexString({
    default: '',
    description: 'Regular expression of the only interfaces to report; empty means all.',
  }),
  slowAttributesRefreshSeconds: Type.Number({
    default: 60,
    minimum: 0,
    description:
      'How often address, broadcast, duplex, ifalias and mtu are re-read (they change only on reconfiguration; a change of operstate or admin state re-reads them at once). 0: every run.',
  }),
});
export type NetclassOptions = Static<typeof Options>;

export const netclass: CollectorDescriptor<NetclassOptions> = {
  name: 'netclass',
  description:
    'Interface state from /sys/class/net: node_network_up, node_network_info, node_network_mtu_bytes.',
  defaultIntervalSeconds: 15,
  defaultTimeoutSeconds: 5,
  options: Options,
  create(given) {
    const options = Value.Default(Options, { ...given }) as NetclassOptions;
    const filter = new DeviceFilter(options.deviceExclude, options.deviceInclude, {
      exclude: 'collectors.netclass.deviceExclude',
      include: 'collectors.netclass.deviceInclude',
    });
    const slowCache = new Map<
      string,
      { slow: SlowAttributes; readAt: number; operstate: string; adminstate: string }
    >();
    return {
      async collect(ctx) {
        const names = (await listKernelDir(join(ctx.sysRoot, 'class/net')))
          .filter((d) => !filter.ignored(d))
          .sort();
        const now = ctx.now();
        const devices = await Promise.all(
          names.map(async (name) => {
            const cached = slowCache.get(name);
            const fresh = cached && now - cached.readAt < options.slowAttributesRefreshSeconds * 1000;
            const device = await readNetClassDevice(ctx.sysRoot, name, fresh ? cached.slow : undefined);
            if (fresh && (device.operstate !== cached.operstate || device.adminstate !== cached.adminstate)) {
              // The link changed: what a reconfiguration changes may have changed with it.
              Object.assign(device, await readSlowAttributes(join(ctx.sysRoot, 'class/net', name)));
            } else if (fresh) {
              return device;
            }
            const { address, broadcast, duplex, ifalias, mtu } = device;
            slowCache.set(name, {
              slow: { address, broadcast, duplex, ifalias, mtu },
              readAt: now,
              operstate: device.operstate,
              adminstate: device.adminstate,
            });
            return device;
          }),
        );
        for (const name of slowCache.keys()) if (!names.includes(name)) slowCache.delete(name);
        const up = ctx.registry.gauge('node_network_up', "Value is 1 if operstate is 'up', 0 otherwise.");
        const info = ctx.registry.gauge(
          'node_network_info',
          'Non-numeric data from /sys/class/net/<iface>, value is always 1.',
        );
        const mtu = ctx.registry.gauge('node_network_mtu_bytes', 'Network device property: mtu_bytes');
        for (const d of devices) {
          up.set({ device: d.device }, d.operstate === 'up' ? 1 : 0);
          info.set(
            {
              address: d.address,
              adminstate: d.adminstate,
              broadcast: d.broadcast,
              device: d.device,
              duplex: d.duplex,
              ifalias: d.ifalias,
              operstate: d.operstate,
            },
            1,
          );
          if (d.mtu !== undefined) mtu.set({ device: d.device }, d.mtu);
        }
      },
    };
  },
};
