/**
 * Builds a collector on a temporary store for tests, with a clock the test moves, and checks
 * expositions with the real promtool.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import type { PushPayload, WireFamily } from '../lib/wire/push.js';
import { buildApp } from './app.js';
import { type CollectorConfig, loadCollectorConfig } from './config.js';
import type { ProbingOptions } from './probes/plugin.js';
import { enrollAgent } from './store/agents.js';
import { openStore, type Store } from './store/store.js';

export const T0 = Date.parse('2025-03-03T08:00:00.000Z');

export interface TestCollector {
  app: FastifyInstance;
  store: Store;
  dataDir: string;
  config: CollectorConfig;
  clock: { ms: number };
  /** Enrolls an agent and returns its token. */
  enroll(name: string): Promise<string>;
  push(
    token: string | null,
    body: unknown,
    headers?: Record<string, string>,
  ): Promise<LightMyRequestResponse>;
  metrics(): Promise<string>;
  close(): Promise<void>;
}

export async function testCollector(
  overrides: Partial<CollectorConfig['collector']> = {},
  options: { clock?: { ms: number }; probing?: ProbingOptions } = {},
): Promise<TestCollector> {
  const dataDir = mkdtempSync(join(tmpdir(), 'creditops-collector-'));
  const defaults = loadCollectorConfig();
  const config: CollectorConfig = { collector: { ...defaults.collector, dataDir, ...overrides } };
  const store = await openStore(dataDir);
  const clock = options.clock ?? { ms: T0 };
  const app = buildApp({
    config,
    store,
    log: pino({ level: 'silent' }),
    now: () => clock.ms,
    version: '0.0.0-test',
    ...(options.probing ? { probing: options.probing } : {}),
  });
  await app.ready();
  return {
    app,
    store,
    dataDir,
    config,
    clock,
    async enroll(name) {
      return (await enrollAgent(store, name)).token;
    },
    push(token, body, headers = {}) {
      return app.inject({
        method: 'POST',
        url: '/api/v1/push',
        headers: {
          'content-type': 'application/json',
          ...(token === null ? {} : { authorization: `Bearer ${token}` }),
          ...headers,
        },
        payload: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
      });
    },
    async metrics() {
      const res = await app.inject({ method: 'GET', url: '/metrics' });
      if (res.statusCode !== 200) throw new Error(`/metrics answered ${res.statusCode}: ${res.body}`);
      return res.body;
    },
    async close() {
      await app.close();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function payload(
  name: string,
  families: WireFamily[] = [],
  checks: PushPayload['checks'] = [],
  extra: Partial<PushPayload> = {},
): PushPayload {
  return {
    protocol: 1,
    agent: { name, version: '0.1.0', intervalSeconds: 15, startedAt: '2025-03-03T07:00:00Z' },
    sentAt: '2025-03-03T08:00:00Z',
    families,
    checks,
    ...extra,
  };
}

export function gauge(
  name: string,
  samples: [Record<string, string>, number | 'NaN' | '+Inf' | '-Inf'][],
): WireFamily {
  return {
    name,
    help: `${name} help.`,
    type: 'gauge',
    samples: samples.map(([labels, value]) => ({ labels, value })),
  };
}

export function counter(name: string, samples: [Record<string, string>, number][]): WireFamily {
  return {
    name,
    help: `${name} help.`,
    type: 'counter',
    samples: samples.map(([labels, value]) => ({ labels, value })),
  };
}

/** Runs `promtool check metrics` on the text; returns its exit status and output. */
export function promtoolCheck(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error) throw new Error(`cannot run promtool: ${r.error.message}`, { cause: r.error });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}
