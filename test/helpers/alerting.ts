/**
 * The alerting path with real peers, for end-to-end tests and bench/alerts: a real SMTP server
 * (npm smtp-server, implicit TLS or STARTTLS, a CA generated here), a collector started with
 * `creditops collector -c` and a notification policy routing to that server, an agent token to
 * push metrics the rules look at, Debian's Alertmanager on deploy/alertmanager.yml (shorter
 * waits) and Debian's Prometheus evaluating a rule file.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { join } from 'node:path';
import PostalMime from 'postal-mime';
import { SMTPServer } from 'smtp-server';
import { parse, stringify } from 'yaml';
import { makeCa, makeServerCert } from '../../collector/notify/testing/tls-certs.js';
import {
  creditopsArgs,
  type Daemon,
  freePort,
  httpText,
  ROOT,
  startCreditops,
  startProcess,
  waitFor,
} from './processes.js';

export interface ReceivedMail {
  raw: string;
  /** When the server accepted the message (end of DATA), ms since the epoch. */
  at: number;
}

export interface TestSmtp {
  port: number;
  caFile: string;
  mails: ReceivedMail[];
  /** TCP connections accepted so far. */
  connections: () => number;
  listen(): Promise<void>;
  close(): Promise<void>;
}

/**
 * An SMTP server with a certificate for 127.0.0.1 signed by a CA written to `<dir>/smtp-ca.pem`.
 * Not listening until `listen()`, so a test can start the collector against a port that refuses.
 */
export async function testSmtp(
  dir: string,
  mode: 'implicit-tls' | 'starttls',
  port?: number,
): Promise<TestSmtp> {
  const ca = makeCa('creditops e2e mail CA');
  const cert = makeServerCert(ca, { ips: ['127.0.0.1'] });
  const caFile = join(dir, 'smtp-ca.pem');
  writeFileSync(caFile, ca.certPem);
  const mails: ReceivedMail[] = [];
  let connections = 0;
  const server = new SMTPServer({
    secure: mode === 'implicit-tls',
    key: cert.keyPem,
    cert: cert.certPem,
    // STARTTLS offered and, on the collector's side, required; no login needed on this relay.
    authOptional: true,
    logger: false,
    onConnect(_session, callback) {
      connections++;
      callback();
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push({ raw: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
        callback();
      });
    },
  });
  server.on('error', () => {});
  const smtpPort = port ?? (await freePort());
  return {
    port: smtpPort,
    caFile,
    mails,
    connections: () => connections,
    listen: () => new Promise<void>((resolve) => server.listen(smtpPort, '127.0.0.1', resolve)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A TCP listener that accepts connections and never answers (no SMTP greeting): a mail server
 * that hangs. The sockets are kept so the test can see the attempt and close them.
 */
export async function silentListener(port: number): Promise<{ sockets: Socket[]; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  const server = createTcpServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export const MAIL_FROM = { address: 'noreply@credit.example.gov.cn', name: '信用平台运维中心' };
export const MAIL_TO = { address: 'zhang.san@credit.example.gov.cn', name: '张三' };

export function mailPolicy(
  smtp: { port: number; caFile: string },
  mode: 'implicit-tls' | 'starttls',
  outbox = '',
): string {
  return [
    'channels:',
    '  ops-mail:',
    '    kind: smtp',
    '    host: 127.0.0.1',
    `    port: ${smtp.port}`,
    `    mode: ${mode}`,
    `    caFile: ${smtp.caFile}`,
    `    from: { address: ${MAIL_FROM.address}, name: ${MAIL_FROM.name} }`,
    '    timeoutMs: 3000',
    'routes:',
    '  - name: everything',
    `    receivers: [{ channel: ops-mail, to: ["${MAIL_TO.name} <${MAIL_TO.address}>"] }]`,
    ...(outbox ? [`outbox: ${outbox}`] : []),
    '',
  ].join('\n');
}

export interface CollectorSetup {
  url: string;
  port: number;
  configFile: string;
  webhookTokenFile: string;
  webhookToken: string;
  start(): Daemon;
}

/** Writes the collector's configuration, policy and webhook token under `dir`. */
export async function collectorSetup(
  dir: string,
  notificationPolicy: string,
  extra: string[] = [],
  ticketSweepSeconds = 1,
): Promise<CollectorSetup> {
  const port = await freePort();
  const policyFile = join(dir, 'notification-policy.yaml');
  writeFileSync(policyFile, notificationPolicy);
  const webhookTokenFile = join(dir, 'alertmanager-webhook.token');
  const webhookToken = `am-${Math.random().toString(36).slice(2)}-e2e-token`;
  writeFileSync(webhookTokenFile, `${webhookToken}\n`);
  const configFile = join(dir, 'collector.yaml');
  writeFileSync(
    configFile,
    [
      'collector:',
      `  listen: 127.0.0.1:${port}`,
      `  dataDir: ${join(dir, 'collector')}`,
      '  logLevel: warn',
      '  staleAfterIntervals: 1',
      `  alertmanagerTokenFile: ${webhookTokenFile}`,
      `  notificationPolicyFile: ${policyFile}`,
      '  publicUrl: https://ops.credit.example.gov.cn',
      `  ticketSweepSeconds: ${ticketSweepSeconds}`,
      ...extra.map((l) => `  ${l}`),
      '',
    ].join('\n'),
  );
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    configFile,
    webhookTokenFile,
    webhookToken,
    start: () => startCreditops('collector', ['collector', '-c', configFile]),
  };
}

export async function waitHealthy(url: string, daemons: Daemon[]): Promise<void> {
  await waitFor(
    `${url}/healthz`,
    async () => ((await httpText(`${url}/healthz`)).status === 200 ? true : undefined),
    30_000,
    daemons,
  );
}

/** `creditops agent enroll`: the token an agent (here: the test) pushes with. */
export function enrollAgent(configFile: string, name: string, tokenFile: string): string {
  execFileSync(
    process.execPath,
    creditopsArgs(['agent', 'enroll', name, '-c', configFile, '--token-file', tokenFile]),
    { stdio: 'pipe' },
  );
  return readFileSync(tokenFile, 'utf8').trim();
}

/**
 * One push as an agent makes it, carrying the given gauges (name → value). `startedAt` is the
 * pretend agent process's start, the same for all its pushes (the collector refuses an older
 * start as a second process using the token).
 */
export async function pushGauges(
  collectorUrl: string,
  token: string,
  host: string,
  gauges: Record<string, number>,
  startedAt: string,
  intervalSeconds = 1,
): Promise<void> {
  const now = new Date().toISOString();
  const body = {
    protocol: 1,
    agent: { name: host, version: '0.0.0-e2e', intervalSeconds, startedAt },
    sentAt: now,
    families: Object.entries(gauges).map(([name, value]) => ({
      name,
      help: `test gauge ${name}`,
      type: 'gauge',
      samples: [{ labels: {}, value }],
    })),
    checks: [],
  };
  const { status, text } = await httpText(`${collectorUrl}/api/v1/push`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (status !== 200) throw new Error(`push answered ${status}: ${text}`);
}

export interface AlertmanagerTimings {
  groupWait: string;
  groupInterval: string;
  repeatInterval?: string;
}

/** Debian's Alertmanager on deploy/alertmanager.yml as shipped, pointed at this collector. */
export async function startAlertmanager(
  dir: string,
  collector: Pick<CollectorSetup, 'port' | 'webhookTokenFile'>,
  timings: AlertmanagerTimings,
): Promise<{ daemon: Daemon; url: string; port: number }> {
  const config = parse(readFileSync(join(ROOT, 'deploy', 'alertmanager.yml'), 'utf8'));
  const hook = config.receivers[0].webhook_configs[0];
  hook.url = `http://127.0.0.1:${collector.port}/api/v1/alertmanager/webhook`;
  hook.http_config.authorization.credentials_file = collector.webhookTokenFile;
  config.route.group_wait = timings.groupWait;
  config.route.group_interval = timings.groupInterval;
  if (timings.repeatInterval) config.route.repeat_interval = timings.repeatInterval;
  const file = join(dir, 'alertmanager.yml');
  writeFileSync(file, stringify(config));
  const port = await freePort();
  const daemon = startProcess('alertmanager', process.env.ALERTMANAGER ?? 'prometheus-alertmanager', [
    `--config.file=${file}`,
    `--storage.path=${join(dir, 'am')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--cluster.listen-address=',
    '--log.level=warn',
  ]);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    'Alertmanager ready',
    async () => ((await httpText(`${url}/-/ready`)).status === 200 ? true : undefined),
    30_000,
    [daemon],
  );
  return { daemon, url, port };
}

/**
 * Debian's Prometheus scraping the collector every `interval` and evaluating `ruleFile` at the
 * same interval, alerting to `alertmanagerPort`.
 */
export async function startPrometheus(
  dir: string,
  collectorPort: number,
  alertmanagerPort: number,
  ruleFile: string,
  interval: string,
): Promise<{ daemon: Daemon; url: string }> {
  const port = await freePort();
  const file = join(dir, 'prometheus.yml');
  writeFileSync(
    file,
    [
      'global:',
      `  scrape_interval: ${interval}`,
      `  evaluation_interval: ${interval}`,
      'rule_files:',
      `  - ${ruleFile}`,
      'alerting:',
      '  alertmanagers:',
      `    - static_configs: [{ targets: ['127.0.0.1:${alertmanagerPort}'] }]`,
      'scrape_configs:',
      '  - job_name: creditops-collector',
      '    honor_labels: true',
      `    static_configs: [{ targets: ['127.0.0.1:${collectorPort}'] }]`,
      '',
    ].join('\n'),
  );
  const daemon = startProcess('prometheus', 'prometheus', [
    `--config.file=${file}`,
    `--storage.tsdb.path=${join(dir, 'prom')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ]);
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    'Prometheus ready',
    async () => ((await httpText(`${url}/-/ready`)).status === 200 ? true : undefined),
    60_000,
    [daemon],
  );
  return { daemon, url };
}

/** A rule of rules/<file> with its `for:` shortened, written to `<dir>/<alert>.rules.yml`. */
export function shippedRule(dir: string, rulesFile: string, alert: string, forDuration: string): string {
  const groups = parse(readFileSync(join(ROOT, 'rules', rulesFile), 'utf8')) as {
    groups: { name: string; rules: { alert?: string; for?: string }[] }[];
  };
  const rule = groups.groups.flatMap((g) => g.rules).find((r) => r.alert === alert);
  if (!rule) throw new Error(`rules/${rulesFile} has no alert ${alert}`);
  rule.for = forDuration;
  const file = join(dir, `${alert}.rules.yml`);
  writeFileSync(file, stringify({ groups: [{ name: 'e2e', rules: [rule] }] }));
  return file;
}

export async function decodeMail(raw: string) {
  return PostalMime.parse(raw);
}

export interface TicketView {
  number: string;
  status: string;
  title: string;
  notifications: { reason: string; state: string; channel: string }[];
}

/** A user token made with `creditops user add` (viewer: reads only). */
export function addViewer(configFile: string, tokenFile: string): string {
  return addUser(configFile, tokenFile, 'bureau', 'viewer');
}

export function addUser(
  configFile: string,
  tokenFile: string,
  name: string,
  role: 'viewer' | 'engineer' | 'admin',
): string {
  execFileSync(
    process.execPath,
    creditopsArgs(['user', 'add', name, '--role', role, '-c', configFile, '--token-file', tokenFile]),
    { stdio: 'pipe' },
  );
  return readFileSync(tokenFile, 'utf8').trim();
}

export async function listTickets(
  collectorUrl: string,
  token: string,
): Promise<{ number: string; status: string; title: string }[]> {
  const { status, text } = await httpText(`${collectorUrl}/api/v1/tickets?limit=1000`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (status !== 200) throw new Error(`tickets answered ${status}: ${text}`);
  return (JSON.parse(text) as { tickets: { number: string; status: string; title: string }[] }).tickets;
}

export async function getTicket(collectorUrl: string, token: string, number: string): Promise<TicketView> {
  const { status, text } = await httpText(`${collectorUrl}/api/v1/tickets/${number}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (status !== 200) throw new Error(`ticket answered ${status}: ${text}`);
  return JSON.parse(text) as TicketView;
}
