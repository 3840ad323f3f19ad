import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import { type CollectorConfig, loadCollectorConfig, parseCollectorConfig } from '../config.js';
import { getAgentByName } from '../store/agents.js';
import { listCheckResults } from '../store/check-results.js';
import { openStore, type Store } from '../store/store.js';

let site: Server;
let port: number;
let up = true;

beforeAll(async () => {
  site = createServer((_req, res) => {
    res.writeHead(up ? 200 : 503).end(up ? '信用中国（示例）' : 'maintenance');
  });
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
  port = (site.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((r) => site.close(r));
});

async function collectorWith(probes: Partial<CollectorConfig['collector']['probes']>) {
  const dataDir = mkdtempSync(join(tmpdir(), 'creditops-probes-'));
  const defaults = loadCollectorConfig();
  const config: CollectorConfig = {
    collector: {
      ...defaults.collector,
      dataDir,
      ticketSweepSeconds: 0,
      probes: { ...defaults.collector.probes, ...probes },
    },
  };
  const store: Store = await openStore(dataDir);
  const clock = { ms: Date.parse('2026-03-02T08:00:00Z') };
  const app = buildApp({
    config,
    store,
    log: pino({ level: 'silent' }),
    now: () => clock.ms,
    probing: { schedule: false },
  });
  await app.ready();
  return {
    app,
    store,
    clock,
    async close() {
      await app.close();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

describe('collector endpoint probes', () => {
  it('validates targets against the probe registry', () => {
    expect(() =>
      parseCollectorConfig(
        'collector:\n  probes:\n    targets:\n      - probe: endpoint.ftp\n        options: {}\n',
        'c.yaml',
      ),
    ).toThrow(/c\.yaml:4:16 collector\.probes\.targets\.0\.probe: must be one of/);
    expect(() =>
      parseCollectorConfig(
        'collector:\n  probes:\n    targets:\n      - probe: endpoint.tcp\n        options: { target: "db:5432", bogus: 1 }\n',
        'c.yaml',
      ),
    ).toThrow(/c\.yaml:5:\d+ collector\.probes\.targets\.0\.options\.bogus: unknown key/);
    const ok = parseCollectorConfig(
      'collector:\n  probes:\n    targets:\n      - probe: endpoint.tcp\n        options: { target: "db:5432" }\n',
      'c.yaml',
    );
    expect(ok.collector.probes).toMatchObject({ source: 'creditops-collector', intervalSeconds: 60 });
  });

  it('stores results as check results of the collector source and exports them on /metrics', async () => {
    const c = await collectorWith({
      targets: [
        {
          probe: 'endpoint.http',
          name: 'portal',
          options: { url: `http://127.0.0.1:${port}/`, mustMatch: ['信用'] },
        },
        { probe: 'endpoint.tcp', options: { target: '127.0.0.1:1' } },
      ],
    });
    try {
      await c.app.probing.endpoints.runAll();
      const source = await getAgentByName(c.store, 'creditops-collector');
      expect(source).not.toBeNull();
      let rows = await listCheckResults(c.store, source!.id);
      expect(rows.map((r) => [r.seq, r.check, r.target, r.status])).toEqual(
        expect.arrayContaining([
          [expect.any(Number), 'endpoint.http', `http://127.0.0.1:${port}/`, 'OK'],
          [expect.any(Number), 'endpoint.tcp', '127.0.0.1:1', 'CRIT'],
        ]),
      );
      const metrics = (await c.app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(metrics).toContain(
        `probe_success{host="creditops-collector",probe="endpoint.http",target="http://127.0.0.1:${port}/"} 1`,
      );
      expect(metrics).toContain(
        'probe_success{host="creditops-collector",probe="endpoint.tcp",target="127.0.0.1:1"} 0',
      );
      expect(metrics).toMatch(
        /probe_http_duration_seconds\{host="creditops-collector",phase="processing",probe="endpoint\.http",target=/,
      );
      expect(metrics).toContain(
        'creditops_check_status{host="creditops-collector",check="endpoint.tcp",target="127.0.0.1:1"} 2',
      );
      expect(metrics).toContain('creditops_agent_up{host="creditops-collector"} 1');

      // Unchanged within the repeat interval: nothing new stored. A change is stored at once.
      c.clock.ms += 60_000;
      await c.app.probing.endpoints.runAll();
      expect((await listCheckResults(c.store, source!.id)).length).toBe(rows.length);
      up = false;
      c.clock.ms += 60_000;
      await c.app.probing.endpoints.runAll();
      rows = await listCheckResults(c.store, source!.id);
      const last = rows.at(-1)!;
      expect([last.check, last.status, last.seq]).toEqual(['endpoint.http', 'CRIT', rows.length]);
      expect(last.summary).toContain('503');
    } finally {
      up = true;
      await c.close();
    }
  });
});
