import { join } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
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

/**
 * One interface of /sys/class/net. Only the attribute files node_network_info and the mtu need are
 * read, so the cost stays low on hosts with hundreds of veth interfaces; attributes the driver does
 * not provide are left empty, as node_exporter does.
 */
export async function readNetClassDevice(sysRoot: string, device: string): Promise<NetClassDevice> {
  const dir = join(sysRoot, 'class/net', device);
  const [operstate, address, flags, mtu, broadcast, duplex, ifalias] = await Promise.all(
    ['operstate', 'address', 'flags', 'mtu', 'broadcast', 'duplex', 'ifalias'].map((f) =>
      readKernelFile(join(dir, f)).then(
        (t) => t.trim(),
        () => undefined,
      ),
    ),
  );
  const flagBits = flags === undefined ? Number.NaN : Number.parseInt(flags, 16);
  return {
    device,
    operstate: operstate ?? '',
    address: address ?? '',
    adminstate: Number.isNaN(flagBits) ? 'unknown' : flagBits & IFF_UP ? 'up' : 'down',
    broadcast: broadcast ?? '',
    duplex: duplex ?? '',
    ifalias: ifalias ?? '',
    mtu: mtu === undefined || !Number.isFinite(Number(mtu)) ? undefined : Number(mtu),
  };
}

const Options = Type.Object({
  deviceExclude: Type.String({ default: '', description: 'Regular expression of interfaces to leave out.' }),
  deviceInclude: Type.String({
    default: '',
    description: 'Regular expression of the only interfaces to report; empty means all.',
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
    return {
      async collect(ctx) {
        const names = (await listKernelDir(join(ctx.sysRoot, 'class/net')))
          .filter((d) => !filter.ignored(d))
          .sort();
        const devices = await Promise.all(names.map((d) => readNetClassDevice(ctx.sysRoot, d)));
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
              device: d.device,
              address: d.address,
              adminstate: d.adminstate,
              broadcast: d.broadcast,
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
