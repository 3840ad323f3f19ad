/**
 * Side by side with Debian's prometheus-node-exporter on the same host: every node_* family the
 * agent exports exists in node_exporter's output with the same label names, and the values that
 * cannot drift between two reads agree.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { familyNames, type ParsedSample, parseExposition } from './helpers/exposition.js';
import {
  type Daemon,
  freePort,
  httpText,
  startCreditops,
  startProcess,
  tempDir,
  waitFor,
} from './helpers/processes.js';

/** Families a dashboard for this host cannot do without; both sides must have them. */
const CORE = [
  'node_cpu_seconds_total',
  'node_memory_MemTotal_bytes',
  'node_memory_MemAvailable_bytes',
  'node_load1',
  'node_filesystem_size_bytes',
  'node_filesystem_avail_bytes',
  'node_filesystem_readonly',
  'node_disk_read_bytes_total',
  'node_network_receive_bytes_total',
  'node_boot_time_seconds',
  'node_time_seconds',
  'node_timex_sync_status',
  'node_filefd_allocated',
  'node_procs_running',
];

/**
 * Families the agent shares with node_exporter releases newer than Debian 12's 1.5.0
 * (node_filesystem_mount_info arrived in 1.8.0); they cannot be found in the older output.
 */
const NEWER_THAN_DEBIAN = new Set(['node_filesystem_mount_info']);
/** Labels newer node_exporter releases added to a shared family (adminstate: 1.8.0). */
const NEWER_LABELS: Record<string, string[]> = { node_network_info: ['adminstate'] };

function labelNames(samples: ParsedSample[], name: string): string {
  const keys = new Set<string>();
  const newer = NEWER_LABELS[name] ?? [];
  for (const s of samples)
    if (s.name === name) for (const k of Object.keys(s.labels)) if (!newer.includes(k)) keys.add(k);
  return [...keys].sort().join(',');
}

describe('agent compared with prometheus-node-exporter', () => {
  const dir = tempDir('compare');
  const daemons: Daemon[] = [];
  let agentText = '';
  let exporterText = '';

  beforeAll(async () => {
    const [agentPort, exporterPort] = await Promise.all([freePort(), freePort()]);
    const agentConfig = join(dir.path, 'agent.yaml');
    writeFileSync(
      agentConfig,
      `agent:\n  listen: 127.0.0.1:${agentPort}\n  dataDir: ${join(dir.path, 'agent')}\n`,
    );
    daemons.push(startCreditops('agent', ['agent', '-c', agentConfig]));
    daemons.push(
      startProcess('node_exporter', 'prometheus-node-exporter', [
        `--web.listen-address=127.0.0.1:${exporterPort}`,
        '--collector.processes',
      ]),
    );
    agentText = await waitFor(
      'agent /metrics with filesystems',
      async () => {
        const { status, text } = await httpText(`http://127.0.0.1:${agentPort}/metrics`);
        return status === 200 && text.includes('node_filesystem_size_bytes') ? text : undefined;
      },
      30_000,
      daemons,
    );
    exporterText = await waitFor(
      'node_exporter /metrics',
      async () => {
        const { status, text } = await httpText(`http://127.0.0.1:${exporterPort}/metrics`);
        return status === 200 ? text : undefined;
      },
      30_000,
      daemons,
    );
  });

  afterAll(async () => {
    await Promise.all(daemons.map((d) => d.stop()));
    dir.remove();
  });

  it('exports the core families', () => {
    const names = familyNames(agentText);
    expect(CORE.filter((n) => !names.has(n))).toEqual([]);
  });

  it('every node_* family of the agent exists in node_exporter, with the same label names', () => {
    const ours = [...familyNames(agentText)].filter(
      (n) => n.startsWith('node_') && !NEWER_THAN_DEBIAN.has(n),
    );
    const theirs = familyNames(exporterText);
    expect(ours.filter((n) => !theirs.has(n))).toEqual([]);
    const agentSamples = parseExposition(agentText);
    const exporterSamples = parseExposition(exporterText);
    const mismatched = ours
      .filter((n) => agentSamples.some((s) => s.name === n) && exporterSamples.some((s) => s.name === n))
      .filter((n) => labelNames(agentSamples, n) !== labelNames(exporterSamples, n))
      .map(
        (n) =>
          `${n}: agent {${labelNames(agentSamples, n)}} vs node_exporter {${labelNames(exporterSamples, n)}}`,
      );
    expect(mismatched).toEqual([]);
  });

  it('MemTotal, the size of / and the number of CPUs agree', () => {
    const a = parseExposition(agentText);
    const e = parseExposition(exporterText);
    const one = (samples: ParsedSample[], name: string, labels: Record<string, string> = {}) => {
      const found = samples.filter(
        (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
      );
      expect(found, `${name}${JSON.stringify(labels)}`).toHaveLength(1);
      return found[0]!.value;
    };
    expect(one(a, 'node_memory_MemTotal_bytes')).toBe(one(e, 'node_memory_MemTotal_bytes'));
    const ourRoot = one(a, 'node_filesystem_size_bytes', { mountpoint: '/' });
    const theirRoot = one(e, 'node_filesystem_size_bytes', { mountpoint: '/' });
    expect(Math.abs(ourRoot - theirRoot) / theirRoot).toBeLessThan(0.01);
    const cpus = (samples: ParsedSample[]) =>
      new Set(samples.filter((s) => s.name === 'node_cpu_seconds_total').map((s) => s.labels.cpu)).size;
    expect(cpus(a)).toBeGreaterThan(0);
    expect(cpus(a)).toBe(cpus(e));
  });
});
