/**
 * Broken links by a bounded crawl of the portal (DOMAIN.md §7: more than 1,000 broken links is
 * flagged). Pages on the site's own host are crawled breadth-first up to maxPages; every link
 * found (up to maxLinks) is checked once.
 */
import { Type } from '@sinclair/typebox';
import { follow } from '../endpoint/http.js';
import type { ProbeDescriptor } from '../types.js';
import { fetchPage } from './page.js';

interface Options {
  url: string;
  maxPages?: number;
  maxLinks?: number;
  /** Check links to other hosts too (they are never crawled). @defaultValue false */
  checkExternal?: boolean;
  /** @defaultValue 1000 */
  critAt?: number;
  ca?: string;
  connectTo?: string;
  timeoutSeconds?: number;
}

export const brokenLinks: ProbeDescriptor<Options> = {
  id: 'portal.broken_links',
  category: 'portal',
  title: '网站无失效链接',
  remediation: '修复或删除失效链接（HTTP 4xx/5xx 或无法访问）；栏目改版时为旧地址设置重定向。',
  clause: '《政府网站与政务新媒体检查指标》：链接不可用',
  options: Type.Object({
    url: Type.String({ pattern: '^https?://\\S+$' }),
    maxPages: Type.Integer({ minimum: 1, maximum: 5000, default: 100 }),
    maxLinks: Type.Integer({ minimum: 1, maximum: 50_000, default: 2000 }),
    checkExternal: Type.Boolean({ default: false }),
    critAt: Type.Integer({ minimum: 1, default: 1000 }),
    ca: Type.Optional(Type.String()),
    connectTo: Type.Optional(Type.String()),
    timeoutSeconds: Type.Number({ exclusiveMinimum: 0, default: 10 }),
  }),
  async run({ options, now, signal }) {
    const start = new URL(options.url);
    const queue = [start.href];
    const crawled = new Set<string>();
    const links = new Map<string, string>(); // link → first page it was found on
    while (queue.length > 0 && crawled.size < (options.maxPages ?? 100) && !signal.aborted) {
      const url = queue.shift()!;
      if (crawled.has(url)) continue;
      crawled.add(url);
      const page = await fetchPage(url, options, now).catch(() => undefined);
      if (
        !page ||
        page.status >= 400 ||
        !/html/i.test(String(page.response.headers['content-type'] ?? 'text/html'))
      )
        continue;
      for (const a of page.root.querySelectorAll('a[href]')) {
        const href = a.getAttribute('href')!;
        if (/^(mailto:|tel:|javascript:|#)/i.test(href)) continue;
        let target: URL;
        try {
          target = new URL(href, page.url);
        } catch {
          continue;
        }
        target.hash = '';
        if (!/^https?:$/.test(target.protocol)) continue;
        const same = target.host === start.host;
        if (!same && !options.checkExternal) continue;
        if (!links.has(target.href) && links.size < (options.maxLinks ?? 2000))
          links.set(target.href, page.url);
        if (same && !crawled.has(target.href)) queue.push(target.href);
      }
    }
    const broken: { url: string; foundOn: string; status: number | string }[] = [];
    const entries = [...links];
    for (let i = 0; i < entries.length && !signal.aborted; i += 8) {
      await Promise.all(
        entries.slice(i, i + 8).map(async ([url, foundOn]) => {
          const outcome = await follow(new URL(url), {
            ...(options.ca ? { ca: options.ca } : {}),
            ...(options.connectTo && new URL(url).host === start.host
              ? { connectTo: options.connectTo }
              : {}),
            timeoutMs: (options.timeoutSeconds ?? 10) * 1000,
            now,
            maxRedirects: 10,
            followRedirects: true,
          });
          if (outcome.kind === 'response' && outcome.response.status < 400) return;
          broken.push({
            url,
            foundOn,
            status: outcome.kind === 'response' ? outcome.response.status : outcome.kind,
          });
        }),
      );
    }
    broken.sort((a, b) => a.url.localeCompare(b.url));
    const details = { pagesCrawled: crawled.size, linksChecked: links.size, broken: broken.slice(0, 200) };
    if (broken.length === 0)
      return [
        {
          status: 'OK',
          target: options.url,
          summary: `抽查 ${crawled.size} 个页面、${links.size} 个链接，未发现失效链接`,
          details,
        },
      ];
    return [
      {
        status: broken.length >= (options.critAt ?? 1000) ? 'CRIT' : 'WARN',
        target: options.url,
        summary: `发现 ${broken.length} 个失效链接（抽查 ${crawled.size} 个页面、${links.size} 个链接），如 ${broken[0]!.url}（${broken[0]!.status}，位于 ${broken[0]!.foundOn}）`,
        details,
      },
    ];
  },
};
