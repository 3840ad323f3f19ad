/**
 * Portal column freshness (DOMAIN.md §7): each configured column's newest item must be younger
 * than its maximum age (news 14 days, notices and policy 6 months); a column with no items is
 * blank. Government website inspections fail a site with 5 or more overdue columns.
 */
import { Type } from '@sinclair/typebox';
import type { ProbeDescriptor, ProbeResult } from '../types.js';
import { DAY_MS, fetchPage, isoDay, newestDate } from './page.js';

export const COLUMN_MAX_AGE_DAYS = { news: 14, notice: 183, policy: 183 } as const;

interface Column {
  name: string;
  url: string;
  /** CSS selector of the elements holding each item's date (or the items themselves). */
  selector: string;
  kind?: keyof typeof COLUMN_MAX_AGE_DAYS;
  maxAgeDays?: number;
}

interface Options {
  columns: Column[];
  /** Overdue columns at which the whole site fails inspection. @defaultValue 5 */
  failAtOverdue?: number;
  ca?: string;
  connectTo?: string;
  timeoutSeconds?: number;
}

export const columnFreshness: ProbeDescriptor<Options> = {
  id: 'portal.column_freshness',
  category: 'portal',
  title: '网站栏目按期更新',
  remediation:
    '督促栏目责任部门更新内容：动态/要闻类栏目 2 周内、通知公告和政策文件类栏目 6 个月内须有更新；长期无内容的栏目应补充内容或经审批后撤并。',
  clause: '《政府网站与政务新媒体检查指标》单项否决：栏目不更新、空白栏目',
  options: Type.Object({
    columns: Type.Array(
      Type.Object(
        {
          name: Type.String({ minLength: 1 }),
          url: Type.String({ pattern: '^https?://\\S+$' }),
          selector: Type.String({ minLength: 1 }),
          kind: Type.Optional(
            Type.Union([Type.Literal('news'), Type.Literal('notice'), Type.Literal('policy')]),
          ),
          maxAgeDays: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
        },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
    failAtOverdue: Type.Integer({ minimum: 1, default: 5 }),
    ca: Type.Optional(Type.String()),
    connectTo: Type.Optional(Type.String()),
    timeoutSeconds: Type.Number({ exclusiveMinimum: 0, default: 15 }),
  }),
  async run({ options, now }) {
    const results: ProbeResult[] = [];
    let overdue = 0;
    for (const column of options.columns) {
      const maxAge = column.maxAgeDays ?? COLUMN_MAX_AGE_DAYS[column.kind ?? 'news'];
      try {
        const page = await fetchPage(column.url, options, now);
        if (page.status >= 400) {
          overdue++;
          results.push({
            status: 'CRIT',
            target: column.name,
            summary: `栏目「${column.name}」无法打开（HTTP ${page.status}）`,
            details: { url: column.url, status: page.status },
          });
          continue;
        }
        const { newest, items } = newestDate(page.root, column.selector, now());
        if (newest === undefined) {
          overdue++;
          results.push({
            status: 'CRIT',
            target: column.name,
            summary: `栏目「${column.name}」为空白栏目（未找到带日期的内容）`,
            details: { url: column.url, selector: column.selector, items, reason: 'blank' },
          });
          continue;
        }
        const age = Math.floor((now() - newest) / DAY_MS);
        const details = { url: column.url, newest: isoDay(newest), ageDays: age, maxAgeDays: maxAge, items };
        if (age > maxAge) {
          overdue++;
          results.push({
            status: 'WARN',
            target: column.name,
            summary: `栏目「${column.name}」已 ${age} 天未更新（最近 ${isoDay(newest)}，上限 ${maxAge} 天）`,
            details: { ...details, reason: 'overdue' },
          });
        } else {
          results.push({
            status: 'OK',
            target: column.name,
            summary: `栏目「${column.name}」最近更新于 ${isoDay(newest)}（${age} 天前）`,
            details,
          });
        }
      } catch (error) {
        overdue++;
        results.push({
          status: 'CRIT',
          target: column.name,
          summary: `栏目「${column.name}」无法访问：${(error as Error).message}`,
          details: { url: column.url },
        });
      }
    }
    const fail = options.failAtOverdue ?? 5;
    if (overdue >= fail) {
      results.push({
        status: 'CRIT',
        target: '(全站)',
        summary: `${overdue} 个栏目未按期更新或空白，达到网站检查单项否决线（${fail} 个）`,
        details: { overdue },
      });
    }
    return results;
  },
};
