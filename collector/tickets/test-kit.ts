/**
 * Test support for tickets and notifications: a collector app on a temporary store with a movable
 * clock, background work off (tests call `tick()`), users of each role, and a recording channel
 * for outbox logic (real peers — SMTP, Alertmanager — are used where delivery itself is tested).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import { buildApp } from '../app.js';
import { type CollectorConfig, loadCollectorConfig } from '../config.js';
import type { Channel, ChannelDeps, DeliveryResult, OutboundMessage } from '../notify/channels/types.js';
import { parseNotificationPolicy } from '../notify/policy.js';
import { openStore, type Store } from '../store/store.js';
import { addUser } from '../store/users.js';
import { parseTicketPolicy } from './policy.js';

/** Monday 2026-05-11 10:00 in Beijing. */
export const T_MONDAY = Date.parse('2026-05-11T02:00:00Z');
export const WEBHOOK_TOKEN = 'am-test-token-0123456789';

export class RecordingChannel implements Channel {
  readonly kind = 'recording';
  readonly sent: OutboundMessage[] = [];
  /** Answers to give, in order; afterwards every send succeeds. */
  readonly script: DeliveryResult[] = [];
  calls = 0;
  async send(message: OutboundMessage): Promise<DeliveryResult> {
    this.calls++;
    const answer = this.script.shift() ?? { ok: true, providerMessageId: `m${this.calls}` };
    if (answer.ok) this.sent.push(message);
    return answer;
  }
}

export interface KitOptions {
  ticketPolicy?: string;
  notificationPolicy?: string;
  /** Channel instances by name; by default the notification policy's channels are created. */
  channels?: Map<string, Channel>;
  channelDeps?: Partial<ChannelDeps>;
  dataDir?: string;
  start?: number;
  collector?: Partial<CollectorConfig['collector']>;
}

export interface Kit {
  app: FastifyInstance;
  store: Store;
  dataDir: string;
  clock: { ms: number };
  tokens: { admin: string; engineer: string; viewer: string };
  api(
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    token: string | null,
    body?: unknown,
  ): Promise<LightMyRequestResponse>;
  webhook(body: unknown, token?: string | null): Promise<LightMyRequestResponse>;
  tick(): Promise<void>;
  /** Closes app and store; removes the data unless keepData. */
  close(keepData?: boolean): Promise<void>;
}

export async function ticketKit(options: KitOptions = {}): Promise<Kit> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'creditops-tickets-'));
  const tokenFile = join(dataDir, 'alertmanager-webhook.token');
  writeFileSync(tokenFile, `${WEBHOOK_TOKEN}\n`);
  const defaults = loadCollectorConfig();
  const config: CollectorConfig = {
    collector: {
      ...defaults.collector,
      dataDir,
      alertmanagerTokenFile: tokenFile,
      ticketSweepSeconds: 0,
      publicUrl: 'https://ops.credit.example.gov.cn',
      ...options.collector,
    },
  };
  const store = await openStore(dataDir);
  const clock = { ms: options.start ?? T_MONDAY };
  const app = buildApp({
    config,
    store,
    log: pino({ level: 'silent' }),
    now: () => clock.ms,
    version: '0.0.0-test',
    ticketing: {
      ticketPolicy: parseTicketPolicy(options.ticketPolicy ?? '{}'),
      notificationPolicy: parseNotificationPolicy(options.notificationPolicy ?? '{}'),
      ...(options.channels ? { channels: options.channels } : {}),
      ...(options.channelDeps ? { channelDeps: options.channelDeps } : {}),
    },
  });
  await app.ready();
  const user = async (name: string, role: 'admin' | 'engineer' | 'viewer') =>
    (await addUser(store, name, role, { rotate: true })).token;
  const tokens = {
    admin: await user('admin', 'admin'),
    engineer: await user('zhangsan', 'engineer'),
    viewer: await user('bureau', 'viewer'),
  };
  return {
    app,
    store,
    dataDir,
    clock,
    tokens,
    api(method, url, token, body) {
      return app.inject({
        method,
        url,
        headers: {
          ...(token === null ? {} : { authorization: `Bearer ${token}` }),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      });
    },
    webhook(body, token = WEBHOOK_TOKEN) {
      return app.inject({
        method: 'POST',
        url: '/api/v1/alertmanager/webhook',
        headers: {
          'content-type': 'application/json',
          ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        },
        payload: JSON.stringify(body),
      });
    },
    tick: () => app.ticketing.tick(),
    async close(keepData = false) {
      await app.close();
      await store.close();
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** An Alertmanager v4 payload. */
export function amPayload(
  alerts: {
    status: 'firing' | 'resolved';
    fingerprint: string;
    startsAt: string;
    labels?: Record<string, string>;
    summary?: string;
  }[],
) {
  return {
    version: '4',
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    receiver: 'creditops-collector',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://127.0.0.1:9093',
    groupKey: '{}:{}',
    truncatedAlerts: 0,
    alerts: alerts.map((a) => ({
      status: a.status,
      labels: { alertname: 'HostDown', host: 'db-01', severity: 'P1', kind: 'fault', ...a.labels },
      annotations: { summary: a.summary ?? '主机 db-01 无法访问' },
      startsAt: a.startsAt,
      endsAt: a.status === 'resolved' ? '2026-05-11T02:30:00Z' : '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus/graph',
      fingerprint: a.fingerprint,
    })),
  };
}
