/** HTTPS hygiene of the portal (DOMAIN.md §7): HTTP redirects to HTTPS, HSTS max-age ≥ 6 months, basic security headers. */
import { Type } from '@sinclair/typebox';
import { fetchOnce } from '../endpoint/http.js';
import type { ProbeDescriptor, ProbeResult } from '../types.js';

const SIX_MONTHS = 15_552_000;

interface Options {
  /** The site's HTTPS URL. */
  url: string;
  /** The plain-HTTP URL that must redirect; http://<host>/ by default. */
  httpUrl?: string;
  ca?: string;
  connectTo?: string;
  timeoutSeconds?: number;
}

export const securityHeaders: ProbeDescriptor<Options> = {
  id: 'portal.security_headers',
  category: 'portal',
  title: '网站强制 HTTPS 与安全响应头',
  remediation:
    '在 Web 服务器上将 HTTP 请求 301 重定向到 HTTPS；设置 Strict-Transport-Security: max-age=31536000（不少于 6 个月）；设置 X-Content-Type-Options: nosniff 和 X-Frame-Options 或 CSP frame-ancestors。',
  clause: 'GB/T 22239-2019 8.1.2.2 a)',
  options: Type.Object({
    url: Type.String({ pattern: '^https://\\S+$' }),
    httpUrl: Type.Optional(Type.String({ pattern: '^http://\\S+$' })),
    ca: Type.Optional(Type.String()),
    connectTo: Type.Optional(Type.String()),
    timeoutSeconds: Type.Number({ exclusiveMinimum: 0, default: 15 }),
  }),
  async run({ options, now }) {
    const fetchOptions = {
      ...(options.ca ? { ca: options.ca } : {}),
      ...(options.connectTo ? { connectTo: options.connectTo } : {}),
      timeoutMs: (options.timeoutSeconds ?? 15) * 1000,
      now,
    };
    const results: ProbeResult[] = [];
    const https = await fetchOnce(new URL(options.url), undefined, fetchOptions);
    const hsts = String(https.headers['strict-transport-security'] ?? '');
    const maxAge = Number(/max-age\s*=\s*"?(\d+)/i.exec(hsts)?.[1] ?? 0);
    results.push(
      maxAge >= SIX_MONTHS
        ? {
            status: 'OK',
            target: 'HSTS',
            summary: `HSTS 已启用，max-age ${Math.round(maxAge / 86400)} 天`,
            details: { header: hsts },
          }
        : {
            status: 'WARN',
            target: 'HSTS',
            summary: hsts
              ? `HSTS max-age 仅 ${Math.round(maxAge / 86400)} 天（应不少于 180 天）`
              : '未设置 HSTS 响应头',
            details: { header: hsts || null },
          },
    );
    const httpUrl = new URL(options.httpUrl ?? `http://${new URL(options.url).hostname}/`);
    const plain = await fetchOnce(httpUrl, undefined, fetchOptions).catch((e: Error) => e);
    if (plain instanceof Error) {
      results.push({
        status: 'OK',
        target: 'HTTP→HTTPS',
        summary: `HTTP 端口不提供服务（${plain.message}）`,
        details: { url: httpUrl.href },
      });
    } else {
      const location = String(plain.headers.location ?? '');
      const redirects = plain.status >= 300 && plain.status < 400 && location.startsWith('https://');
      results.push(
        redirects
          ? {
              status: 'OK',
              target: 'HTTP→HTTPS',
              summary: `HTTP 访问被重定向到 HTTPS（${plain.status}）`,
              details: { location },
            }
          : {
              status: 'WARN',
              target: 'HTTP→HTTPS',
              summary: `HTTP 访问未重定向到 HTTPS（HTTP ${plain.status}）`,
              details: { status: plain.status, location: location || null },
            },
      );
    }
    const missing = [
      https.headers['x-content-type-options'] ? undefined : 'X-Content-Type-Options',
      https.headers['x-frame-options'] ||
      /frame-ancestors/i.test(String(https.headers['content-security-policy'] ?? ''))
        ? undefined
        : 'X-Frame-Options',
    ].filter((h): h is string => h !== undefined);
    results.push(
      missing.length === 0
        ? { status: 'OK', target: 'headers', summary: '基本安全响应头齐全' }
        : {
            status: 'WARN',
            target: 'headers',
            summary: `缺少安全响应头：${missing.join('、')}`,
            details: { missing },
          },
    );
    return results;
  },
};
