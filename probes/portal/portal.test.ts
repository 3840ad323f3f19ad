import { createHash } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issue } from '../endpoint/test-pki.js';
import { LocalHost } from '../hosts/local-host.js';
import { type AnyProbe, type ProbeResult, runProbe } from '../types.js';
import { brokenLinks } from './broken-links.js';
import { columnFreshness } from './column-freshness.js';
import { homepageUpdate } from './homepage-update.js';
import { datesIn } from './page.js';
import { securityHeaders } from './security-headers.js';
import { tampering } from './tampering.js';

const NOW = Date.now();
const day = (ago: number) => new Date(NOW - ago * 86_400_000).toISOString().slice(0, 10);
const zh = (ago: number) => {
  const d = new Date(NOW - ago * 86_400_000);
  return `${d.getUTCFullYear()}年${d.getUTCMonth() + 1}月${d.getUTCDate()}日`;
};
const ABOUT = '<html><body><h1>关于我们</h1><p>信用示范市</p></body></html>';

const PAGES: Record<string, string> = {
  '/': `<html><body><ul class="news"><li><a href="/news">动态</a><span class="d">${day(3)}</span></li></ul>
        <a href="/notices">通知公告</a><a href="/policy">政策文件</a><a href="/about">关于</a><a href="/missing">旧栏目</a></body></html>`,
  '/news': `<ul class="list"><li>信用动态一<span class="date">${day(3)}</span></li><li>二<span class="date">${day(20)}</span></li></ul>`,
  '/notices': `<ul class="list"><li>通知<span class="date">${zh(240)}</span></li></ul>`,
  '/policy': '<ul class="list"></ul><p>暂无内容</p>',
  '/about': ABOUT,
  '/tampered': `<html><body><p>信用动态</p><div style="position:absolute;left:-9999px"><a href="http://spam.example/">百家乐</a></div>
        <script src="https://evil.example/x.js"></script><script src="/static/site.js"></script></body></html>`,
};

function site(req: IncomingMessage, res: ServerResponse): void {
  const body = PAGES[req.url ?? ''];
  if (body === undefined) {
    res.writeHead(404).end('not found');
    return;
  }
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);
}

const servers: Server[] = [];
async function listen(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

let base: string;
let ca: string;
let goodHttps: number;
let badHttps: number;
let redirecting: number;
let plainOnly: number;

beforeAll(async () => {
  base = `http://127.0.0.1:${await listen(createHttpServer(site))}`;
  const root = issue({ commonName: 'portal test root', fromDays: -1, toDays: 365, ca: true });
  const leaf = issue({
    commonName: 'credit.test',
    fromDays: -1,
    toDays: 365,
    dnsNames: ['credit.test'],
    issuer: root,
  });
  ca = root.pem;
  const tls = { cert: leaf.pem, key: leaf.keyPem };
  goodHttps = await listen(
    createHttpsServer(tls, (_q, s) =>
      s
        .writeHead(200, {
          'strict-transport-security': 'max-age=31536000; includeSubDomains',
          'x-content-type-options': 'nosniff',
          'x-frame-options': 'SAMEORIGIN',
        })
        .end('ok'),
    ),
  );
  badHttps = await listen(
    createHttpsServer(tls, (_q, s) =>
      s.writeHead(200, { 'strict-transport-security': 'max-age=86400' }).end('ok'),
    ),
  );
  redirecting = await listen(
    createHttpServer((_q, s) => s.writeHead(301, { location: 'https://credit.test/' }).end()),
  );
  plainOnly = await listen(createHttpServer((_q, s) => s.writeHead(200).end('plain')));
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

async function run(probe: AnyProbe, options: Record<string, unknown>): Promise<ProbeResult[]> {
  return runProbe(probe, {
    host: new LocalHost(),
    options,
    signal: new AbortController().signal,
    now: () => NOW,
  });
}
const byTarget = (results: ProbeResult[]) => Object.fromEntries(results.map((r) => [r.target, r.status]));

describe('portal probes against a local site', () => {
  it('column freshness: fresh news OK, overdue notices, blank policy; the site fails at the threshold', async () => {
    const columns = [
      { name: '信用动态', url: `${base}/news`, selector: '.list .date', kind: 'news' },
      { name: '通知公告', url: `${base}/notices`, selector: '.list .date', kind: 'notice' },
      { name: '政策文件', url: `${base}/policy`, selector: '.list .date', kind: 'policy' },
    ];
    const results = await run(columnFreshness, { columns });
    expect(byTarget(results)).toEqual({ 信用动态: 'OK', 通知公告: 'WARN', 政策文件: 'CRIT' });
    const notices = results.find((r) => r.target === '通知公告')!;
    expect(notices.summary).toMatch(/已 24\d 天未更新/);
    expect(results.find((r) => r.target === '政策文件')!.summary).toContain('空白栏目');
    const strict = await run(columnFreshness, { columns, failAtOverdue: 2 });
    expect(strict.find((r) => r.target === '(全站)')?.status).toBe('CRIT');
  });

  it('homepage update age: fresh passes, a 2-day limit fails', async () => {
    expect((await run(homepageUpdate, { url: `${base}/`, selector: '.news .d' }))[0]!.status).toBe('OK');
    const stale = await run(homepageUpdate, { url: `${base}/`, selector: '.news .d', maxAgeDays: 2 });
    expect(stale[0]).toMatchObject({ status: 'CRIT', details: { ageDays: 3 } });
  });

  it('tampering: the clean page matches its baseline; the tampered one shows its hidden link and injected script', async () => {
    const sha = createHash('sha256').update(ABOUT).digest('hex');
    const results = await run(tampering, {
      pages: [{ url: `${base}/about`, sha256: sha }, { url: `${base}/tampered` }],
    });
    expect(byTarget(results)).toEqual({ [`${base}/about`]: 'OK', [`${base}/tampered`]: 'CRIT' });
    const bad = results.find((r) => r.target === `${base}/tampered`)!;
    expect(bad.details).toMatchObject({
      hiddenLinks: ['http://spam.example/'],
      scripts: ['https://evil.example/x.js'],
      keywords: ['百家乐'],
    });
    const changed = await run(tampering, { pages: [{ url: `${base}/about`, sha256: '0'.repeat(64) }] });
    expect(changed[0]!.summary).toContain('基线哈希不一致');
  });

  it('security headers: HSTS a year and HTTP redirected pass; a day of HSTS and plain HTTP fail', async () => {
    const good = await run(securityHeaders, {
      url: `https://credit.test:${goodHttps}/`,
      httpUrl: `http://credit.test:${redirecting}/`,
      connectTo: '127.0.0.1',
      ca,
    });
    expect(byTarget(good)).toEqual({ HSTS: 'OK', 'HTTP→HTTPS': 'OK', headers: 'OK' });
    const bad = await run(securityHeaders, {
      url: `https://credit.test:${badHttps}/`,
      httpUrl: `http://credit.test:${plainOnly}/`,
      connectTo: '127.0.0.1',
      ca,
    });
    expect(byTarget(bad)).toEqual({ HSTS: 'WARN', 'HTTP→HTTPS': 'WARN', headers: 'WARN' });
    expect(bad.find((r) => r.target === 'HSTS')!.summary).toContain('仅 1 天');
  });

  it('broken links: the crawl finds /missing; a site without dead links passes', async () => {
    const [r] = await run(brokenLinks, { url: `${base}/` });
    expect(r).toMatchObject({ status: 'WARN' });
    expect(r!.details?.broken).toEqual([{ url: `${base}/missing`, foundOn: `${base}/`, status: 404 }]);
    const [clean] = await run(brokenLinks, { url: `${base}/about` });
    expect(clean!.status).toBe('OK');
  });

  it('reads dates as government sites print them', () => {
    expect(
      datesIn('发布：2024年3月5日 更新 2024/03/06 与 2024-3-7').map((d) =>
        new Date(d).toISOString().slice(0, 10),
      ),
    ).toEqual(['2024-03-05', '2024-03-06', '2024-03-07']);
  });
});
