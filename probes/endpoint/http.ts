/**
 * HTTP(S) probe with blackbox_exporter's metric names: status code, per-phase durations summed
 * over redirects, redirect count, body regular expressions, and the TLS facts of the final hop.
 * Redirects are followed with a cookie jar, so a login redirect that sets a session cookie and
 * sends the client back is not mistaken for a loop; a request repeated with the same cookies is a
 * loop, reported with its chain.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { Type } from '@sinclair/typebox';
import { StringEnum } from '../../lib/config-file.js';
import { RegexString } from '../../lib/formats.js';
import type { MetricRegistry } from '../../lib/metrics.js';
import type { ProbeDescriptor, ProbeResult } from '../types.js';
import { inspectTls, parseAnchors, type TlsFacts, writeTlsMetrics } from './certificates.js';
import { caText, errorCode, isIp, probeRegistry, type TlsClient, TlsClientOptions } from './common.js';
import { judgeTls } from './tls.js';

export const PHASES = ['resolve', 'connect', 'tls', 'processing', 'transfer'] as const;
export type Phase = (typeof PHASES)[number];

export interface HttpResponseFacts {
  url: string;
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
  phases: Record<Phase, number>;
  tls: TlsFacts | undefined;
}

export interface FetchOptions extends TlsClient {
  method?: string;
  headers?: Record<string, string>;
  timeoutMs: number;
  now: () => number;
  /** Bodies larger than this are cut (the probe only needs to match and hash them). */
  maxBodyBytes?: number;
}

/** One request, no redirects followed, with phase timings like blackbox_exporter's httptrace. */
export function fetchOnce(
  url: URL,
  cookie: string | undefined,
  options: FetchOptions,
): Promise<HttpResponseFacts> {
  const https = url.protocol === 'https:';
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const serverName = options.serverName ?? (isIp(hostname) ? undefined : hostname);
  const ca = https ? caText(options) : undefined;
  const phases: Record<Phase, number> = { resolve: 0, connect: 0, tls: 0, processing: 0, transfer: 0 };
  const t0 = performance.now();
  let mark = t0;
  const lap = (phase: Phase) => {
    const t = performance.now();
    phases[phase] += (t - mark) / 1000;
    mark = t;
  };
  const lookup = (host: string, opts: { all?: boolean }, cb: (...args: unknown[]) => void) => {
    const answer = (
      err: NodeJS.ErrnoException | null,
      address: string | LookupAddress[],
      family?: number,
    ) => {
      lap('resolve');
      cb(err, address, family);
    };
    if (options.connectTo) {
      const family = options.connectTo.includes(':') ? 6 : 4;
      if (opts.all) answer(null, [{ address: options.connectTo, family }]);
      else answer(null, options.connectTo, family);
      return;
    }
    // biome-ignore lint/suspicious/noExplicitAny: dns.lookup's overloads depend on opts.all
    (dnsLookup as any)(host, opts, answer);
  };
  const requestOptions: RequestOptions & { servername?: string; ca?: string; rejectUnauthorized?: boolean } =
    {
      method: options.method ?? 'GET',
      host: hostname,
      port: url.port || (https ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      headers: {
        'user-agent': 'creditops-probe/1',
        accept: '*/*',
        ...options.headers,
        ...(cookie ? { cookie } : {}),
      },
      agent: false,
      lookup: lookup as RequestOptions['lookup'],
      timeout: options.timeoutMs,
    };
  if (https) {
    if (serverName) requestOptions.servername = serverName;
    if (ca) requestOptions.ca = ca;
    requestOptions.rejectUnauthorized = false;
  }
  return new Promise((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)(requestOptions);
    let tls: TlsFacts | undefined;
    req.once('socket', (socket) => {
      // An IP address is connected without a lookup: the resolve phase stays 0.
      socket.once('connect', () => lap('connect'));
      if (https) {
        socket.once('secureConnect', () => {
          lap('tls');
          tls = inspectTls(socket as TLSSocket, parseAnchors(ca), options.now(), serverName ?? hostname);
        });
      }
    });
    const timer = setTimeout(
      () => req.destroy(new Error(`timed out after ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    req.once('timeout', () => req.destroy(new Error(`timed out after ${options.timeoutMs} ms`)));
    req.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.once('response', (res) => {
      lap('processing');
      const chunks: Buffer[] = [];
      let size = 0;
      const max = options.maxBodyBytes ?? 4 * 1024 * 1024;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= max) chunks.push(chunk);
      });
      res.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      res.once('end', () => {
        clearTimeout(timer);
        lap('transfer');
        resolve({
          url: url.href,
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          phases,
          tls,
        });
      });
    });
    req.end();
  });
}

/** A minimal cookie jar: name=value per host, enough for a login redirect. */
export class CookieJar {
  private readonly cookies = new Map<string, Map<string, string>>();

  store(url: URL, setCookie: string[] | undefined): void {
    if (!setCookie) return;
    const jar = this.cookies.get(url.host) ?? new Map<string, string>();
    for (const line of setCookie) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair!.indexOf('=');
      if (eq <= 0) continue;
      const name = pair!.slice(0, eq).trim();
      const expired = attributes.some((a) => /^\s*max-age\s*=\s*(0|-\d+)\s*$/i.test(a));
      if (expired) jar.delete(name);
      else jar.set(name, pair!.slice(eq + 1).trim());
    }
    this.cookies.set(url.host, jar);
  }

  header(url: URL): string | undefined {
    const jar = this.cookies.get(url.host);
    if (!jar || jar.size === 0) return undefined;
    return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

export type FollowOutcome =
  | { kind: 'response'; response: HttpResponseFacts; chain: string[]; phases: Record<Phase, number> }
  | { kind: 'loop'; chain: string[]; phases: Record<Phase, number>; last: HttpResponseFacts }
  | { kind: 'too_many_redirects'; chain: string[]; phases: Record<Phase, number>; last: HttpResponseFacts }
  | { kind: 'error'; error: unknown; chain: string[]; phases: Record<Phase, number> };

/** Follows redirects with a cookie jar; a repeated (URL, cookies) pair is a loop. */
export async function follow(
  start: URL,
  options: FetchOptions & { maxRedirects: number; followRedirects: boolean },
): Promise<FollowOutcome> {
  const jar = new CookieJar();
  const chain: string[] = [];
  const seen = new Set<string>();
  const phases: Record<Phase, number> = { resolve: 0, connect: 0, tls: 0, processing: 0, transfer: 0 };
  let url = start;
  for (;;) {
    const cookie = jar.header(url);
    const key = `${url.href}\u0000${cookie ?? ''}`;
    chain.push(url.href);
    let response: HttpResponseFacts;
    try {
      response = await fetchOnce(url, cookie, options);
    } catch (error) {
      return { kind: 'error', error, chain, phases };
    }
    for (const p of PHASES) phases[p] += response.phases[p];
    seen.add(key);
    jar.store(url, response.headers['set-cookie']);
    const location = response.headers.location;
    if (!options.followRedirects || response.status < 300 || response.status >= 400 || !location) {
      return { kind: 'response', response, chain, phases };
    }
    const next = new URL(location, url);
    const nextKey = `${next.href}\u0000${jar.header(next) ?? ''}`;
    if (seen.has(nextKey)) return { kind: 'loop', chain: [...chain, next.href], phases, last: response };
    if (chain.length > options.maxRedirects)
      return { kind: 'too_many_redirects', chain, phases, last: response };
    url = next;
  }
}

interface HttpProbeOptions extends TlsClient {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  validStatusCodes?: number[];
  followRedirects?: boolean;
  maxRedirects?: number;
  mustMatch?: string[];
  mustNotMatch?: string[];
  timeoutSeconds?: number;
  /** Report an untrusted or expired certificate as OK for reachability (the TLS probe still reports it). */
  insecureSkipVerify?: boolean;
}

function writeHttpMetrics(registry: MetricRegistry, phases: Record<Phase, number>, redirects: number): void {
  const duration = registry.gauge(
    'probe_http_duration_seconds',
    'Duration of http request by phase, summed over all redirects',
  );
  for (const p of PHASES) duration.set({ phase: p }, phases[p]);
  registry.gauge('probe_http_redirects', 'The number of redirects').value(redirects);
  registry
    .gauge('probe_dns_lookup_time_seconds', 'Returns the time taken for probe dns lookup in seconds')
    .value(phases.resolve);
}

export const httpEndpoint: ProbeDescriptor<HttpProbeOptions> = {
  id: 'endpoint.http',
  category: 'endpoint',
  title: 'HTTP(S) 服务可用性',
  remediation:
    '检查 Web 服务与反向代理是否运行、返回码与页面内容是否正常；重定向循环通常由登录跳转或 HTTP/HTTPS 跳转配置错误引起，检查链中各跳的 Location 与 Cookie。',
  clause: 'GB/T 22239-2019 8.1.4.4',
  options: Type.Object({
    url: Type.String({ pattern: '^https?://\\S+$' }),
    method: StringEnum(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'], { default: 'GET' }),
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
    /** Statuses that count as up; 2xx when empty. @defaultValue [] */
    validStatusCodes: Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), { default: [] }),
    followRedirects: Type.Boolean({ default: true }),
    maxRedirects: Type.Integer({ minimum: 0, maximum: 50, default: 10 }),
    /** Regular expressions the body must match. */
    mustMatch: Type.Array(RegexString(), { default: [] }),
    /** Regular expressions the body must not match. */
    mustNotMatch: Type.Array(RegexString(), { default: [] }),
    timeoutSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 120, default: 10 }),
    insecureSkipVerify: Type.Boolean({ default: false }),
    ...TlsClientOptions,
  }),
  async run({ options, now }) {
    const started = performance.now();
    const registry = probeRegistry();
    const outcome = await follow(new URL(options.url), {
      ...options,
      timeoutMs: (options.timeoutSeconds ?? 10) * 1000,
      now,
      maxRedirects: options.maxRedirects ?? 10,
      followRedirects: options.followRedirects ?? true,
    });
    const redirects = outcome.chain.length - 1;
    writeHttpMetrics(registry, outcome.phases, redirects);
    const done = (result: Omit<ProbeResult, 'target' | 'metrics'>): ProbeResult[] => {
      registry
        .gauge('probe_success', 'Displays whether or not the probe was a success')
        .value(result.status === 'OK' ? 1 : 0);
      registry
        .gauge('probe_duration_seconds', 'Returns how long the probe took to complete in seconds')
        .value((performance.now() - started) / 1000);
      return [{ ...result, target: options.url, metrics: registry.collect() }];
    };
    if (outcome.kind === 'error') {
      return done({
        status: 'CRIT',
        summary: `${options.url} 无法访问：${errorCode(outcome.error)}`,
        details: { reason: 'unreachable', error: errorCode(outcome.error), chain: outcome.chain },
      });
    }
    if (outcome.kind === 'loop') {
      registry.gauge('probe_http_status_code', 'Response HTTP status code').value(outcome.last.status);
      return done({
        status: 'CRIT',
        summary: `${options.url} 重定向循环：${outcome.chain.join(' → ')}`,
        details: { reason: 'redirect_loop', chain: outcome.chain },
      });
    }
    if (outcome.kind === 'too_many_redirects') {
      registry.gauge('probe_http_status_code', 'Response HTTP status code').value(outcome.last.status);
      return done({
        status: 'CRIT',
        summary: `${options.url} 重定向超过 ${options.maxRedirects ?? 10} 次`,
        details: { reason: 'too_many_redirects', chain: outcome.chain },
      });
    }
    const r = outcome.response;
    registry.gauge('probe_http_status_code', 'Response HTTP status code').value(r.status);
    registry
      .gauge('probe_http_content_length', 'Length of http content response')
      .value(Buffer.byteLength(r.body));
    registry.gauge('probe_http_ssl', 'Indicates if SSL was used for the final redirect').value(r.tls ? 1 : 0);
    if (r.tls) writeTlsMetrics(registry, r.tls);
    const details: Record<string, unknown> = {
      status: r.status,
      chain: outcome.chain,
      redirects,
      phases: outcome.phases,
    };
    const valid = options.validStatusCodes?.length
      ? options.validStatusCodes.includes(r.status)
      : r.status >= 200 && r.status < 300;
    const missing = (options.mustMatch ?? []).filter((re) => !new RegExp(re).test(r.body));
    const forbidden = (options.mustNotMatch ?? []).filter((re) => new RegExp(re).test(r.body));
    registry
      .gauge('probe_failed_due_to_regex', 'Indicates if probe failed due to regex')
      .value(missing.length + forbidden.length > 0 ? 1 : 0);
    if (!valid)
      return done({
        status: 'CRIT',
        summary: `${options.url} 返回 HTTP ${r.status}`,
        details: { ...details, reason: 'status' },
      });
    if (missing.length > 0 || forbidden.length > 0) {
      return done({
        status: 'CRIT',
        summary: `${options.url} 页面内容不符合预期：${[...missing.map((m) => `缺少 /${m}/`), ...forbidden.map((f) => `出现 /${f}/`)].join('，')}`,
        details: { ...details, reason: 'body', missing, forbidden },
      });
    }
    if (r.tls && !options.insecureSkipVerify) {
      const tls = judgeTls(r.tls, now(), options, new URL(r.url).host);
      if (tls.reason !== 'ok' && tls.reason !== 'expiring') {
        return done({
          status: 'CRIT',
          summary: `${options.url} 证书问题：${tls.summary}`,
          details: { ...details, reason: tls.reason },
        });
      }
    }
    const ms = Math.round(Object.values(outcome.phases).reduce((a, b) => a + b, 0) * 1000);
    return done({
      status: 'OK',
      summary: `${options.url} 正常：HTTP ${r.status}，${ms} 毫秒${redirects > 0 ? `，经 ${redirects} 次重定向` : ''}`,
      details,
    });
  },
};
