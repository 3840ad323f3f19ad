import { createSocket } from 'node:dgram';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createSecureContext } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalHost } from '../hosts/local-host.js';
import { type AnyProbe, type ProbeResult, runProbe } from '../types.js';
import { dnsResolution } from './dns.js';
import { httpEndpoint } from './http.js';
import { tcpConnect } from './tcp.js';
import { type Issued, issue } from './test-pki.js';
import { tlsCertificate } from './tls.js';

let root: Issued;
let server: Server;
let port: number;
let plain: ReturnType<typeof createHttpServer>;
let plainPort: number;
const host = new LocalHost();

function sample(result: ProbeResult, name: string, labels: Record<string, string> = {}): number | undefined {
  const family = result.metrics?.find((f) => f.name === name);
  return family?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

async function run(probe: AnyProbe, options: Record<string, unknown>): Promise<ProbeResult> {
  const results = await runProbe(probe, {
    host,
    options,
    signal: new AbortController().signal,
    now: Date.now,
  });
  expect(results).toHaveLength(1);
  return results[0]!;
}

function site(req: IncomingMessage, res: ServerResponse): void {
  const cookie = req.headers.cookie ?? '';
  if (req.url === '/app') {
    if (cookie.includes('session=42')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<h1>欢迎使用信用平台</h1>');
    } else {
      res.writeHead(302, { location: '/login?next=/app' }).end();
    }
  } else if (req.url?.startsWith('/login')) {
    res.writeHead(302, { location: '/app', 'set-cookie': 'session=42; Path=/; HttpOnly' }).end();
  } else if (req.url === '/loop/a') {
    res.writeHead(302, { location: '/loop/b' }).end();
  } else if (req.url === '/loop/b') {
    res.writeHead(302, { location: '/loop/a' }).end();
  } else if (req.url === '/hacked') {
    res
      .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      .end('<p>信用动态</p><a href="http://x">博彩</a>');
  } else if (req.url === '/missing') {
    res.writeHead(404).end('not found');
  } else {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  }
}

beforeAll(async () => {
  root = issue({ commonName: 'creditops test root', fromDays: -30, toDays: 3650, ca: true });
  const intermediate = issue({
    commonName: 'creditops test intermediate',
    fromDays: -30,
    toDays: 1800,
    ca: true,
    issuer: root,
  });
  // The same root key cross-signed long ago by an older CA, expired: servers still send such
  // certificates (AddTrust, 2020); the path to the trusted root does not use it.
  const oldRoot = issue({ commonName: 'old root', fromDays: -4000, toDays: 3650, ca: true });
  const rootKey = { key: root.key, publicKey: root.publicKey, keyPem: root.keyPem };
  const crossSigned = issue({
    commonName: 'creditops test root',
    fromDays: -2000,
    toDays: -20,
    ca: true,
    issuer: oldRoot,
    keyPair: rootKey,
  });
  const leaf = (name: string, fromDays: number, toDays: number, issuer: Issued = root) =>
    issue({ commonName: name, fromDays, toDays, dnsNames: [name], issuer });
  const contexts: Record<string, { cert: string; key: string }> = {};
  const add = (name: string, l: Issued, chain: Issued[] = []) => {
    contexts[name] = { cert: [l.pem, ...chain.map((c) => c.pem)].join(''), key: l.keyPem };
  };
  add('valid.test', leaf('valid.test', -10, 365));
  add('expired.test', leaf('expired.test', -100, -12));
  add('soon.test', leaf('soon.test', -100, 5.5));
  add('cross.test', leaf('cross.test', -10, 365, intermediate), [intermediate, crossSigned]);
  const fallback = leaf('default.test', -10, 365);
  const secure = Object.fromEntries(Object.entries(contexts).map(([n, c]) => [n, createSecureContext(c)]));
  server = createServer(
    {
      cert: fallback.pem,
      key: fallback.keyPem,
      SNICallback: (name, cb) =>
        cb(null, secure[name] ?? createSecureContext({ cert: fallback.pem, key: fallback.keyPem })),
    },
    site,
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  plain = createHttpServer(site);
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  plainPort = (plain.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await new Promise((r) => plain.close(r));
});

const tlsOptions = (name: string) => ({ target: `${name}:${port}`, connectTo: '127.0.0.1', ca: root.pem });

describe('endpoint.tls', () => {
  it('a valid certificate: OK with leaf and verified-chain days', async () => {
    const r = await run(tlsCertificate, tlsOptions('valid.test'));
    expect(r.status).toBe('OK');
    expect(r.details).toMatchObject({ reason: 'ok', leafDaysLeft: 364, serverName: 'valid.test' });
    expect(r.details?.tlsVersion).toMatch(/^TLS 1\.[23]$/);
    expect(sample(r, 'probe_success')).toBe(1);
    expect(sample(r, 'probe_tls_version_info', { version: r.details?.tlsVersion as string })).toBe(1);
    expect(sample(r, 'probe_ssl_last_chain_expiry_timestamp_seconds')).toBeGreaterThan(Date.now() / 1000);
  });

  it('an expired certificate: CRIT, reason expired, negative days', async () => {
    const r = await run(tlsCertificate, tlsOptions('expired.test'));
    expect(r).toMatchObject({ status: 'CRIT', details: { reason: 'expired', leafDaysLeft: -12 } });
    expect(r.summary).toContain('已过期 12 天');
    expect(sample(r, 'probe_ssl_earliest_cert_expiry')).toBeLessThan(Date.now() / 1000);
  });

  it('a certificate expiring in 5 days: CRIT (below critDays 7), reason expiring', async () => {
    const r = await run(tlsCertificate, tlsOptions('soon.test'));
    expect(r).toMatchObject({ status: 'CRIT', details: { reason: 'expiring', leafDaysLeft: 5 } });
    const warn = await run(tlsCertificate, { ...tlsOptions('soon.test'), critDays: 3 });
    expect(warn.status).toBe('WARN');
  });

  it('without SNI the default certificate is served: reported as a name mismatch, not expiry', async () => {
    const r = await run(tlsCertificate, { target: `127.0.0.1:${port}`, ca: root.pem });
    expect(r).toMatchObject({ status: 'CRIT', details: { reason: 'hostname_mismatch', serverName: null } });
    expect((r.details!.leaf as { subject: string }).subject).toContain('default.test');
  });

  it('an extra expired cross-signed certificate the verified chain does not use raises no alarm', async () => {
    const r = await run(tlsCertificate, tlsOptions('cross.test'));
    expect(r.status).toBe('OK');
    const chain = r.details?.verifiedChain as { subject: string }[];
    expect(chain.map((c) => c.subject)).toEqual([
      'CN=cross.test',
      'CN=creditops test intermediate',
      'CN=creditops test root',
    ]);
    expect(r.details?.chainDaysLeft).toBeGreaterThan(300);
  });

  it('a closed port: CRIT, reason unreachable (not expired)', async () => {
    const r = await run(tlsCertificate, { target: '127.0.0.1:1', ca: root.pem });
    expect(r).toMatchObject({ status: 'CRIT', details: { reason: 'unreachable' } });
  });
});

describe('endpoint.http', () => {
  const url = (name: string, path: string) => ({
    url: `https://${name}:${port}${path}`,
    connectTo: '127.0.0.1',
    ca: root.pem,
  });

  it('a login redirect that sets a cookie is followed to the page: up', async () => {
    const r = await run(httpEndpoint, { ...url('valid.test', '/app'), mustMatch: ['欢迎'] });
    expect(r.status).toBe('OK');
    expect(r.details?.chain).toEqual([
      `https://valid.test:${port}/app`,
      `https://valid.test:${port}/login?next=/app`,
      `https://valid.test:${port}/app`,
    ]);
    expect(sample(r, 'probe_http_status_code')).toBe(200);
    expect(sample(r, 'probe_http_redirects')).toBe(2);
    expect(sample(r, 'probe_http_ssl')).toBe(1);
    for (const phase of ['resolve', 'connect', 'tls', 'processing', 'transfer']) {
      expect(sample(r, 'probe_http_duration_seconds', { phase })).toBeGreaterThanOrEqual(0);
    }
    expect(sample(r, 'probe_http_duration_seconds', { phase: 'tls' })).toBeGreaterThan(0);
  });

  it('a redirect loop: down, the loop named with its chain', async () => {
    const r = await run(httpEndpoint, url('valid.test', '/loop/a'));
    expect(r.status).toBe('CRIT');
    expect(r.details).toMatchObject({ reason: 'redirect_loop' });
    expect(r.summary).toContain('重定向循环');
    expect(r.summary).toContain(
      `/loop/a → https://valid.test:${port}/loop/b → https://valid.test:${port}/loop/a`,
    );
    expect(sample(r, 'probe_success')).toBe(0);
  });

  it('body must-not-match and status checks', async () => {
    const bad = await run(httpEndpoint, { ...url('valid.test', '/hacked'), mustNotMatch: ['博彩'] });
    expect(bad).toMatchObject({ status: 'CRIT', details: { reason: 'body', forbidden: ['博彩'] } });
    expect(sample(bad, 'probe_failed_due_to_regex')).toBe(1);
    const missing = await run(httpEndpoint, url('valid.test', '/missing'));
    expect(missing).toMatchObject({ status: 'CRIT', details: { reason: 'status' } });
    expect(sample(missing, 'probe_http_status_code')).toBe(404);
  });

  it('an expired certificate on an HTTPS URL is down with reason expired; plain HTTP is up', async () => {
    const r = await run(httpEndpoint, url('expired.test', '/'));
    expect(r).toMatchObject({ status: 'CRIT', details: { reason: 'expired' } });
    const http = await run(httpEndpoint, { url: `http://127.0.0.1:${plainPort}/` });
    expect(http.status).toBe('OK');
    expect(sample(http, 'probe_http_ssl')).toBe(0);
  });
});

describe('endpoint.tcp', () => {
  it('open and closed ports', async () => {
    expect((await run(tcpConnect, { target: `127.0.0.1:${plainPort}` })).status).toBe('OK');
    const closed = await run(tcpConnect, { target: '127.0.0.1:1' });
    expect(closed).toMatchObject({ status: 'CRIT', details: { error: 'ECONNREFUSED' } });
  });
});

describe('endpoint.dns', () => {
  it('resolves through a loopback DNS server; a missing name and an unexpected address fail', async () => {
    const dns = createSocket('udp4');
    dns.on('message', (msg, rinfo) => {
      // Parse the question name, answer portal.test A 127.0.0.1, NXDOMAIN otherwise.
      const labels: string[] = [];
      let i = 12;
      while (msg[i]! > 0) {
        labels.push(msg.subarray(i + 1, i + 1 + msg[i]!).toString());
        i += msg[i]! + 1;
      }
      const question = msg.subarray(12, i + 5);
      const known = labels.join('.') === 'portal.test';
      const header = Buffer.from([
        msg[0]!,
        msg[1]!,
        0x81,
        known ? 0x80 : 0x83,
        0,
        1,
        0,
        known ? 1 : 0,
        0,
        0,
        0,
        0,
      ]);
      const answer = known
        ? Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1])
        : Buffer.alloc(0);
      dns.send(Buffer.concat([header, question, answer]), rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => dns.bind(0, '127.0.0.1', r));
    const server = `127.0.0.1:${dns.address().port}`;
    try {
      const ok = await run(dnsResolution, { name: 'portal.test', server, expectAddresses: ['127.0.0.1'] });
      expect(ok).toMatchObject({ status: 'OK', details: { answers: ['127.0.0.1'] } });
      expect(sample(ok, 'probe_dns_lookup_time_seconds')).toBeGreaterThan(0);
      const missing = await run(dnsResolution, { name: 'nope.test', server });
      expect(missing).toMatchObject({ status: 'CRIT', details: { error: 'ENOTFOUND' } });
      const hijacked = await run(dnsResolution, {
        name: 'portal.test',
        server,
        expectAddresses: ['10.0.0.1'],
      });
      expect(hijacked.status).toBe('CRIT');
      expect(hijacked.summary).toContain('意外地址');
    } finally {
      dns.close();
    }
  });
});
