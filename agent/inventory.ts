/**
 * Static inventory (OS release, kernel, CPU model), sent at start and daily. systeminformation
 * spawns helpers for some of this, which is why it stays out of the collection path.
 */
import { hostname } from 'node:os';
import si from 'systeminformation';
import type { Inventory } from '../lib/wire/push.js';

export async function readInventory(extra: Record<string, string> = {}): Promise<Inventory> {
  const [os, cpu, mem] = await Promise.all([si.osInfo(), si.cpu(), si.mem()]);
  return {
    hostname: hostname(),
    os: [os.distro, os.release].filter(Boolean).join(' '),
    kernel: os.kernel,
    arch: os.arch,
    cpuModel: [cpu.manufacturer, cpu.brand].filter(Boolean).join(' '),
    cpuVendor: cpu.vendor,
    cpuCores: cpu.cores,
    memoryBytes: mem.total,
    collectedAt: new Date().toISOString(),
    ...extra,
  };
}
