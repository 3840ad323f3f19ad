/** Homepage update age (DOMAIN.md §7): a homepage not updated for 2 weeks fails inspection. */
import { Type } from '@sinclair/typebox';
import type { ProbeDescriptor } from '../types.js';
import { DAY_MS, fetchPage, isoDay, newestDate } from './page.js';

interface Options {
  url: string;
  /** Where the homepage lists dated items. @defaultValue "body" */
  selector?: string;
  maxAgeDays?: number;
  ca?: string;
  connectTo?: string;
  timeoutSeconds?: number;
}

export const homepageUpdate: ProbeDescriptor<Options> = {
  id: 'portal.homepage_update',
  category: 'portal',
  title: '网站首页两周内有更新',
  remediation: '首页动态、要闻等信息须至少每两周更新；检查内容发布流程与栏目责任人。',
  clause: '《政府网站与政务新媒体检查指标》单项否决：首页 2 周未更新',
  options: Type.Object({
    url: Type.String({ pattern: '^https?://\\S+$' }),
    selector: Type.String({ default: 'body' }),
    maxAgeDays: Type.Number({ exclusiveMinimum: 0, default: 14 }),
    ca: Type.Optional(Type.String()),
    connectTo: Type.Optional(Type.String()),
    timeoutSeconds: Type.Number({ exclusiveMinimum: 0, default: 15 }),
  }),
  async run({ options, now }) {
    const page = await fetchPage(options.url, options, now);
    if (page.status >= 400)
      return [{ status: 'CRIT', target: options.url, summary: `首页无法打开（HTTP ${page.status}）` }];
    const { newest } = newestDate(page.root, options.selector ?? 'body', now());
    const max = options.maxAgeDays ?? 14;
    if (newest === undefined)
      return [{ status: 'WARN', target: options.url, summary: '首页未找到任何发布日期，无法判断更新时间' }];
    const age = Math.floor((now() - newest) / DAY_MS);
    const details = { newest: isoDay(newest), ageDays: age, maxAgeDays: max };
    return age > max
      ? [
          {
            status: 'CRIT',
            target: options.url,
            summary: `首页已 ${age} 天未更新（最近 ${isoDay(newest)}）`,
            details,
          },
        ]
      : [
          {
            status: 'OK',
            target: options.url,
            summary: `首页最近更新于 ${isoDay(newest)}（${age} 天前）`,
            details,
          },
        ];
  },
};
