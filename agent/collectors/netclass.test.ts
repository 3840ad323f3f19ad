import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { MetricRegistry } from '../../lib/metrics.js';
import { netclass } from './netclass.js';

const log = pino({ level: 'silent' });

async function mtuOf(
  collector: ReturnType<typeof netclass.create>,
  sysRoot: string,
  now: number,
): Promise<number | undefined> {
  const registry = new MetricRegistry();
  await collector.collect({
    procRoot: '/nonexistent',
    sysRoot,
    rootfs: '/',
    registry,
    signal: new AbortController().signal,
    now: () => now,
    log,
    report: () => {},
  });
  return registry
    .collect()
    .find((f) => f.name === 'node_network_mtu_bytes')
    ?.samples.find((s) => s.labels.device === 'eth0')?.value;
}

describe('netclass slow attributes', () => {
  it('re-reads mtu and friends after the refresh interval, or at once when the link changes', async () => {
    const sysRoot = mkdtempSync(join(tmpdir(), 'netclass-'));
    cpSync(join(import.meta.dirname, 'fixtures/host/sys'), sysRoot, { recursive: true });
    const eth0 = join(sysRoot, 'class/net/eth0');
    writeFileSync(join(eth0, 'mtu'), '1500\n');
    writeFileSync(join(eth0, 'operstate'), 'up\n');
    const collector = netclass.create(
      { deviceExclude: '', deviceInclude: '', slowAttributesRefreshSeconds: 60 },
      { log },
    );
    expect(await mtuOf(collector, sysRoot, 0)).toBe(1500);
    writeFileSync(join(eth0, 'mtu'), '9000\n');
    expect(await mtuOf(collector, sysRoot, 30_000)).toBe(1500);
    expect(await mtuOf(collector, sysRoot, 61_000)).toBe(9000);
    writeFileSync(join(eth0, 'mtu'), '1400\n');
    writeFileSync(join(eth0, 'operstate'), 'down\n');
    expect(await mtuOf(collector, sysRoot, 62_000)).toBe(1400);
  });
});
