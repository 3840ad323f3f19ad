// Checks deploy/alertmanager.yml with amtool, then runs a real Alertmanager on it and verifies that
// an alert reaches the collector's webhook with the bearer token read from credentials_file.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';

const deployDir = dirname(fileURLToPath(import.meta.url));
const configPath = join(deployDir, 'alertmanager.yml');
const amtool = process.env.AMTOOL ?? 'amtool';
const alertmanager = process.env.ALERTMANAGER ?? 'prometheus-alertmanager';

function run(cmd: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') {
        reject(new Error(`cannot run ${cmd}`, { cause: error }));
        return;
      }
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, output: `${stdout}${stderr}` });
    });
  });
}

async function freePort(): Promise<number> {
  const server = createNetServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch {
      // not ready yet; retried until the deadline
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('deploy/alertmanager.yml', () => {
  it('passes amtool check-config', async () => {
    const { code, output } = await run(amtool, ['check-config', configPath]);
    expect(code, output).toBe(0);
  });

  it('routes everything to the collector webhook, resolved notifications included', () => {
    const config = parse(readFileSync(configPath, 'utf8'));
    expect(config.route.receiver).toBe('creditops-collector');
    expect(config.route.routes ?? []).toEqual([]);
    expect(config.route.group_by).toEqual(['alertname', 'host']);
    const [receiver] = config.receivers;
    expect(config.receivers).toHaveLength(1);
    expect(receiver.webhook_configs).toEqual([
      expect.objectContaining({
        url: 'http://127.0.0.1:9470/api/v1/alertmanager/webhook',
        send_resolved: true,
        http_config: { authorization: { type: 'Bearer', credentials_file: expect.any(String) } },
      }),
    ]);
  });

  describe('with a real Alertmanager', () => {
    const work = mkdtempSync(join(tmpdir(), 'creditops-am-'));
    let daemon: ChildProcess | undefined;
    let log = '';
    const webhook = createServer();
    afterAll(async () => {
      // Wait for Alertmanager to exit: it writes its data directory while shutting down, and
      // removing the directory under it fails with ENOTEMPTY.
      if (daemon && daemon.exitCode === null && daemon.signalCode === null) {
        const exited = new Promise((resolve) => daemon!.once('exit', resolve));
        daemon.kill();
        await exited;
      }
      webhook.close();
      rmSync(work, { recursive: true, force: true });
    });

    it('delivers an alert with the bearer token from credentials_file', async () => {
      // Same layout as the repository: <root>/deploy/alertmanager.yml and <root>/data/…, so the
      // relative credentials_file is resolved exactly as with deploy/run.sh.
      mkdirSync(join(work, 'deploy'));
      mkdirSync(join(work, 'data'));
      const token = 'test-token-5f1c2e';
      writeFileSync(join(work, 'data', 'alertmanager-webhook.token'), `${token}\n`, { mode: 0o600 });

      const received: { headers: IncomingMessage['headers']; body: unknown }[] = [];
      webhook.on('request', (req, res) => {
        let body = '';
        req.on('data', (chunk) => {
          body += chunk;
        });
        req.on('end', () => {
          received.push({ headers: req.headers, body: JSON.parse(body) });
          res.end('{}');
        });
      });
      webhook.listen(0, '127.0.0.1');
      await once(webhook, 'listening');
      const hookPort = (webhook.address() as { port: number }).port;

      const config = parse(readFileSync(configPath, 'utf8'));
      config.receivers[0].webhook_configs[0].url = `http://127.0.0.1:${hookPort}/api/v1/alertmanager/webhook`;
      config.route.group_wait = '1s'; // only the wait is shortened for the test
      writeFileSync(join(work, 'deploy', 'alertmanager.yml'), stringify(config));

      const port = await freePort();
      daemon = spawn(
        alertmanager,
        [
          `--config.file=${join(work, 'deploy', 'alertmanager.yml')}`,
          `--storage.path=${join(work, 'am-data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--cluster.listen-address=',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      daemon.stdout?.on('data', (d) => {
        log += d;
      });
      daemon.stderr?.on('data', (d) => {
        log += d;
      });

      const api = `http://127.0.0.1:${port}/api/v2`;
      await waitFor(
        async () => ((await fetch(`${api}/status`)).ok ? true : undefined),
        `alertmanager\n${log}`,
      );
      const post = await fetch(`${api}/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify([
          {
            labels: { alertname: 'HostMemoryPressure', host: 'db-01', severity: 'P2', kind: 'fault' },
            annotations: { summary: '主机 db-01 可用内存不足 10%' },
          },
        ]),
      });
      expect(post.status).toBe(200);

      const delivery = await waitFor(async () => received[0], `a webhook delivery\n${log}`);
      expect(delivery.headers.authorization).toBe(`Bearer ${token}`);
      expect(delivery.body).toMatchObject({
        version: '4',
        status: 'firing',
        receiver: 'creditops-collector',
        groupLabels: { alertname: 'HostMemoryPressure', host: 'db-01' },
        alerts: [
          {
            status: 'firing',
            labels: { alertname: 'HostMemoryPressure', host: 'db-01', severity: 'P2' },
            annotations: { summary: '主机 db-01 可用内存不足 10%' },
          },
        ],
      });
    }, 40_000);
  });
});
