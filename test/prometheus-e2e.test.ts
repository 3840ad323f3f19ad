/**
 * The whole path on this machine, with real processes: a collector, an agent pushing to it, and
 * Debian's Prometheus scraping the collector. Then the agent stops and Prometheus sees
 * creditops_agent_up fall to 0.
 */

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  creditopsArgs,
  type Daemon,
  freePort,
  httpText,
  startCreditops,
  startProcess,
  tempDir,
  waitFor,
} from './helpers/processes.js';
import { promtoolCheckMetrics } from './helpers/promtool.js';

const HOST = 'e2e-host';

interface PromVector {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(promUrl: string, expr: string): Promise<PromVector[]> {
  const { status, text } = await httpText(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  if (status !== 200) throw new Error(`Prometheus answered ${status}: ${text}`);
  const body = JSON.parse(text) as { data: { result: PromVector[] } };
  return body.data.result;
}

describe('agent → collector → Prometheus', () => {
  const dir = tempDir('e2e');
  const daemons: Daemon[] = [];
  let collectorUrl = '';
  let agentUrl = '';
  let promUrl = '';
  let agent: Daemon;

  beforeAll(async () => {
    const [collectorPort, agentPort, promPort] = await Promise.all([freePort(), freePort(), freePort()]);
    collectorUrl = `http://127.0.0.1:${collectorPort}`;
    agentUrl = `http://127.0.0.1:${agentPort}`;
    promUrl = `http://127.0.0.1:${promPort}`;
    const collectorConfig = join(dir.path, 'collector.yaml');
    writeFileSync(
      collectorConfig,
      `collector:\n  listen: 127.0.0.1:${collectorPort}\n  dataDir: ${join(dir.path, 'collector')}\n  staleAfterIntervals: 3\n`,
    );
    const tokenFile = join(dir.path, 'agent.token');
    execFileSync(
      process.execPath,
      creditopsArgs(['agent', 'enroll', HOST, '-c', collectorConfig, '--token-file', tokenFile]),
      {
        stdio: 'pipe',
      },
    );
    const agentConfig = join(dir.path, 'agent.yaml');
    writeFileSync(
      agentConfig,
      [
        'agent:',
        `  name: ${HOST}`,
        `  listen: 127.0.0.1:${agentPort}`,
        `  dataDir: ${join(dir.path, 'agent')}`,
        'push:',
        `  url: ${collectorUrl}`,
        `  tokenFile: ${tokenFile}`,
        '  intervalSeconds: 1',
        '',
      ].join('\n'),
    );
    const promConfig = join(dir.path, 'prometheus.yml');
    writeFileSync(
      promConfig,
      [
        'global:',
        '  scrape_interval: 1s',
        'scrape_configs:',
        '  - job_name: creditops-collector',
        '    honor_labels: true',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${collectorPort}']`,
        '',
      ].join('\n'),
    );
    daemons.push(startCreditops('collector', ['collector', '-c', collectorConfig]));
    await waitFor(
      'collector /healthz',
      async () => ((await httpText(`${collectorUrl}/healthz`)).status === 200 ? true : undefined),
      30_000,
      daemons,
    );
    agent = startCreditops('agent', ['agent', '-c', agentConfig]);
    daemons.push(agent);
    daemons.push(
      startProcess('prometheus', 'prometheus', [
        `--config.file=${promConfig}`,
        `--storage.tsdb.path=${join(dir.path, 'prom')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ]),
    );
    await waitFor(
      'Prometheus ready',
      async () => ((await httpText(`${promUrl}/-/ready`)).status === 200 ? true : undefined),
      60_000,
      daemons,
    );
  });

  afterAll(async () => {
    await Promise.all(daemons.map((d) => d.stop()));
    dir.remove();
  });

  it('agent and collector expositions pass promtool check metrics', async () => {
    const agentMetrics = await waitFor(
      'agent metrics',
      async () => {
        const { status, text } = await httpText(`${agentUrl}/metrics`);
        return status === 200 && text.includes('node_memory_MemTotal_bytes') ? text : undefined;
      },
      30_000,
      daemons,
    );
    const collectorMetrics = await waitFor(
      'collector to merge the agent',
      async () => {
        const { text } = await httpText(`${collectorUrl}/metrics`);
        return text.includes(`node_memory_MemTotal_bytes{host="${HOST}"}`) ? text : undefined;
      },
      30_000,
      daemons,
    );
    for (const [name, text] of [
      ['agent', agentMetrics],
      ['collector', collectorMetrics],
    ] as const) {
      const result = await promtoolCheckMetrics(text);
      expect(result.problems, `${name}: promtool check metrics`).toEqual([]);
    }
  });

  it('Prometheus finds this host through the collector', async () => {
    const mem = await waitFor(
      'node_memory_MemTotal_bytes in Prometheus',
      async () => {
        const r = await query(promUrl, `node_memory_MemTotal_bytes{host="${HOST}"}`);
        return r.length === 1 ? r : undefined;
      },
      60_000,
      daemons,
    );
    expect(Number(mem[0]!.value[1])).toBeGreaterThan(100 * 1024 * 1024);
    const root = await query(promUrl, `node_filesystem_size_bytes{host="${HOST}",mountpoint="/"}`);
    expect(root).toHaveLength(1);
    expect(Number(root[0]!.value[1])).toBeGreaterThan(0);
    const up = await query(promUrl, `creditops_agent_up{host="${HOST}"} == 1`);
    expect(up).toHaveLength(1);
  });

  it('creditops_agent_up falls to 0 when the agent stops', async () => {
    await agent.stop();
    const down = await waitFor(
      'creditops_agent_up == 0',
      async () => {
        const r = await query(promUrl, `creditops_agent_up{host="${HOST}"} == 0`);
        return r.length === 1 ? r : undefined;
      },
      30_000,
      daemons,
    );
    expect(down[0]!.metric.host).toBe(HOST);
    // The stale agent's families leave the exposition with it.
    const { text } = await httpText(`${collectorUrl}/metrics`);
    expect(text).not.toContain(`node_memory_MemTotal_bytes{host="${HOST}"}`);
  });
});
