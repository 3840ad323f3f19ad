// A real Alertmanager (Debian's prometheus-alertmanager) posts to the collector's real webhook
// over loopback, with the bearer token from credentials_file: an alert opens a ticket, its end
// resolves it.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { type Kit, ticketKit } from '../tickets/test-kit.js';

const alertmanager = process.env.ALERTMANAGER ?? 'prometheus-alertmanager';
const deployConfig = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'deploy', 'alertmanager.yml');

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  return port;
}

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('Alertmanager → collector webhook (real processes)', () => {
  let daemon: ChildProcess | undefined;
  let kit: Kit | undefined;
  let log = '';
  afterAll(async () => {
    daemon?.kill();
    await kit?.close();
  });

  it('fires: a ticket opens; resolves: the ticket is resolved', async () => {
    kit = await ticketKit({ start: Date.now() });
    const k = kit;
    const tick = setInterval(() => {
      k.clock.ms = Date.now();
    }, 50);
    try {
      await k.app.listen({ host: '127.0.0.1', port: 0 });
      const port = (k.app.server.address() as { port: number }).port;

      // deploy/alertmanager.yml as shipped, with the webhook's port and token file of this test.
      const config = parse(readFileSync(deployConfig, 'utf8'));
      const hook = config.receivers[0].webhook_configs[0];
      expect(hook.url).toBe('http://127.0.0.1:9470/api/v1/alertmanager/webhook');
      hook.url = `http://127.0.0.1:${port}/api/v1/alertmanager/webhook`;
      hook.http_config.authorization.credentials_file = join(k.dataDir, 'alertmanager-webhook.token');
      config.route.group_wait = '1s';
      config.route.group_interval = '1s';
      const amConfig = join(k.dataDir, 'alertmanager.yml');
      writeFileSync(amConfig, stringify(config));
      const amPort = await freePort();
      daemon = spawn(
        alertmanager,
        [
          `--config.file=${amConfig}`,
          `--storage.path=${join(k.dataDir, 'am')}`,
          `--web.listen-address=127.0.0.1:${amPort}`,
          '--cluster.listen-address=',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      daemon.stdout?.on('data', (d) => (log += d));
      daemon.stderr?.on('data', (d) => (log += d));
      const api = `http://127.0.0.1:${amPort}/api/v2`;
      await waitFor(
        async () => ((await fetch(`${api}/status`)).ok ? true : undefined),
        `alertmanager\n${log}`,
      );

      const startsAt = new Date().toISOString();
      const alert = {
        labels: { alertname: 'PortalDown', host: 'portal-01', severity: 'P1', kind: 'fault' },
        annotations: { summary: '信用门户 portal-01 无法访问' },
        startsAt,
      };
      const post = (body: unknown) =>
        fetch(`${api}/alerts`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      expect((await post([alert])).status).toBe(200);

      const list = async () =>
        (await k.api('GET', '/api/v1/tickets', k.tokens.viewer)).json().tickets as {
          number: string;
          status: string;
          title: string;
          severity: string;
          host: string;
        }[];
      const [opened] = await waitFor(
        async () => ((await list()).length > 0 ? list() : undefined),
        `a ticket\n${log}`,
      );
      expect(opened).toMatchObject({
        status: 'open',
        title: '信用门户 portal-01 无法访问',
        severity: 'P1',
        host: 'portal-01',
      });

      expect((await post([{ ...alert, endsAt: new Date().toISOString() }])).status).toBe(200);
      await waitFor(
        async () => ((await list())[0]?.status === 'resolved' ? true : undefined),
        `the ticket resolved\n${log}`,
      );
      const tickets = await list();
      expect(tickets).toHaveLength(1);
      const detail = (await k.api('GET', `/api/v1/tickets/${opened!.number}`, k.tokens.viewer)).json();
      expect(detail.events.find((e: { type: string }) => e.type === 'resolved').message).toMatch(
        /告警 PortalDown 已恢复/,
      );
    } finally {
      clearInterval(tick);
    }
  }, 40_000);
});
