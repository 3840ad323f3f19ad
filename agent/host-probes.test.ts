import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { MetricRegistry } from '../lib/metrics.js';
import { parseAgentConfig } from './config.js';
import { scheduledCollectors } from './daemon.js';
import { Outbox } from './outbox.js';
import { CollectorRunner } from './runner.js';
import { VerdictRecorder } from './verdicts.js';

const BAD = join(import.meta.dirname, '../probes/security/fixtures/bad');
const log = pino({ level: 'silent' });
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('agent probes section', () => {
  it('defaults to the security baseline daily', () => {
    const config = parseAgentConfig('{}', 'a.yaml');
    expect(config.probes).toMatchObject({ enabled: true, intervalSeconds: 86_400 });
    const scheduled = scheduledCollectors(config, log).find((c) => c.name === 'probes');
    expect(scheduled?.intervalMs).toBe(86_400_000);
  });

  it('rejects an unknown probe id and a wrong option, with the line', () => {
    expect(() => parseAgentConfig('probes:\n  checks:\n    security.nope: {}\n', 'a.yaml')).toThrow(
      /a\.yaml:3:5 probes\.checks\.security\.nope: unknown key/,
    );
    expect(() =>
      parseAgentConfig(
        'probes:\n  checks:\n    security.network.listening_ports:\n      allowedPorts: [ssh]\n',
        'a.yaml',
      ),
    ).toThrow(/allowedPorts/);
  });

  it('runs the baseline on the host tree: verdicts reach the outbox and creditops_check_status', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'creditops-agent-probes-'));
    dirs.push(dataDir);
    const config = parseAgentConfig(
      [
        `agent:\n  rootfs: ${BAD}\n  dataDir: ${dataDir}`,
        'probes:\n  checks:\n    security.updates.pending: { enabled: false }',
        '    security.network.listening_ports: { allowedPorts: [22, 8080] }',
      ].join('\n'),
      'a.yaml',
    );
    const only = Object.fromEntries(
      Object.keys(config.collectors).map((n) => [n, { ...config.collectors[n]!, enabled: false }]),
    );
    const outbox = new Outbox({ dir: join(dataDir, 'outbox'), log });
    const verdicts = new VerdictRecorder(outbox);
    const runner = new CollectorRunner({
      collectors: scheduledCollectors({ ...config, collectors: only }, log),
      roots: { procRoot: join(BAD, 'proc'), sysRoot: join(BAD, 'sys'), rootfs: BAD },
      log,
      onVerdicts: (list, at) => verdicts.record(list, at),
    });
    await runner.runAll();
    expect(runner.state('probes')?.success).toBe(true);
    const pending = outbox.pending();
    const seqs = pending.map((r) => r.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    const uid0 = pending.find((r) => r.check === 'security.accounts.uid0');
    expect(uid0).toMatchObject({ target: 'toor', status: 'CRIT' });
    expect(uid0?.details).toMatchObject({ clause: 'GB/T 22239-2019 8.1.4.2 d)' });
    expect(pending.some((r) => r.check === 'security.updates.pending')).toBe(false);
    expect(pending.some((r) => r.target === 'tcp/8080')).toBe(false);

    const registry = new MetricRegistry();
    verdicts.write(registry, Date.now());
    const status = registry.collect().find((f) => f.name === 'creditops_check_status');
    expect(status?.samples).toContainEqual({
      labels: { check: 'security.accounts.uid0', target: 'toor' },
      value: 2,
    });
  });
});
