/**
 * The Chinese notification texts: one subject and body per ticket event, with the ticket number,
 * host, summary, deadline and a link to the ticket page. SMS templates get the same facts as
 * variables (without the link: providers reject URLs in variables).
 */

import type { TicketDeadlineRow, TicketRow } from '../store/ticket-tables.js';
import { formatDeadline } from '../tickets/deadlines.js';
import { CLOCK_TITLE, KIND_TITLE, type TicketKind } from '../tickets/policy.js';
import type { OutboundMessage } from './channels/types.js';

export interface TemplateContext {
  /** Base URL of the collector for links; `${publicUrl}/tickets/<number>`. */
  publicUrl: string;
  timeZone: string;
  deadlines: TicketDeadlineRow[];
  /** Escalation step (1-based) for `escalated`. */
  step?: number;
  note?: string;
  clock?: string;
}

const HEADLINE: Record<string, string> = {
  opened: '新工单',
  reopened: '工单重新打开',
  resolved: '已恢复',
  deadline_missed: '工单超期',
  escalated: '工单升级',
};

export function ticketLink(publicUrl: string, number: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/tickets/${encodeURIComponent(number)}`;
}

export function renderNotification(
  ticket: TicketRow,
  event: string,
  ctx: TemplateContext,
): Pick<OutboundMessage, 'subject' | 'text' | 'markdown' | 'templateParams'> {
  const headline =
    event === 'escalated' && ctx.step !== undefined
      ? `${HEADLINE.escalated}（第 ${ctx.step} 级，未确认）`
      : event === 'deadline_missed' && ctx.clock
        ? `${HEADLINE.deadline_missed}（${CLOCK_TITLE[ctx.clock] ?? ctx.clock}）`
        : (HEADLINE[event] ?? event);
  const kind = KIND_TITLE[ticket.kind as TicketKind] ?? ticket.kind;
  const link = ticketLink(ctx.publicUrl, ticket.number);
  const deadlineLines = ctx.deadlines.map(
    (d) =>
      `${CLOCK_TITLE[d.clock] ?? d.clock}期限：${formatDeadline(d, ctx.timeZone)}${d.state === 'met' ? '（已满足）' : d.state === 'missed' ? '（已超期）' : ''}`,
  );
  const firstPending = ctx.deadlines.find((d) => d.state === 'pending') ?? ctx.deadlines[0];
  const subject = `【${headline}】[${ticket.severity}] ${ticket.number} ${ticket.title}`;
  const lines = [
    `${headline}：${ticket.title}`,
    '',
    `工单编号：${ticket.number}`,
    `类型：${kind}　级别：${ticket.severity}`,
    `主机：${ticket.host ?? '—'}`,
    ...(ticket.service ? [`服务：${ticket.service}`] : []),
    `摘要：${ticket.title}`,
    ...(ticket.description ? [`详情：${ticket.description}`] : []),
    ...deadlineLines,
    ...(ctx.note ? [`说明：${ctx.note}`] : []),
    `链接：${link}`,
  ];
  const markdown = [
    `### ${headline}：${ticket.title}`,
    `- 工单编号：**${ticket.number}**`,
    `- 类型：${kind}，级别：**${ticket.severity}**`,
    `- 主机：${ticket.host ?? '—'}`,
    ...deadlineLines.map((l) => `- ${l}`),
    ...(ctx.note ? [`- 说明：${ctx.note}`] : []),
    `- [查看工单](${link})`,
  ].join('\n');
  return {
    subject,
    text: lines.join('\n'),
    markdown,
    templateParams: {
      event: headline,
      number: ticket.number,
      severity: ticket.severity,
      host: ticket.host ?? '-',
      summary: ticket.title,
      deadline: firstPending ? formatDeadline(firstPending, ctx.timeZone) : '-',
    },
  };
}

/** One message that waited for a receiver's grouping window, as merged into a digest. */
export interface DigestItem {
  subject: string;
  text: string;
  severity: string;
  templateParams: Record<string, string> | null;
}

/** Items listed one by one in a digest's text and markdown; the rest are counted. */
export const DIGEST_LISTED_TEXT = 200;
export const DIGEST_LISTED_MARKDOWN = 20;

/**
 * The digest that replaces the messages a receiver got within one grouping window: a count per
 * kind of news in the subject, then each message's subject and link, oldest first.
 */
export function renderDigest(
  items: DigestItem[],
  windowSeconds: number,
): Pick<OutboundMessage, 'subject' | 'text' | 'markdown' | 'templateParams'> {
  const counts = new Map<string, number>();
  for (const item of items) {
    const headline = (/^【([^】（]+)/.exec(item.subject)?.[1] ?? '通知').trim();
    counts.set(headline, (counts.get(headline) ?? 0) + 1);
  }
  const breakdown = [...counts].map(([h, n]) => `${h} ${n} 条`).join('，');
  const severity = items.map((i) => i.severity).sort()[0] ?? 'P3';
  const link = (text: string) => /^链接：(\S+)$/m.exec(text)?.[1];
  const more = (listed: number) =>
    items.length > listed ? [`……另有 ${items.length - listed} 条，请在工单列表中查看`] : [];
  const text = [
    `${windowSeconds} 秒内共有 ${items.length} 条工单通知（${breakdown}），合并为一条发送：`,
    '',
    ...items.slice(0, DIGEST_LISTED_TEXT).flatMap((item, n) => {
      const url = link(item.text);
      return [`${n + 1}. ${item.subject}`, ...(url ? [`   链接：${url}`] : [])];
    }),
    ...more(DIGEST_LISTED_TEXT),
  ];
  const markdown = [
    `### 通知汇总：${items.length} 条（${breakdown}）`,
    ...items.slice(0, DIGEST_LISTED_MARKDOWN).map((item) => {
      const url = link(item.text);
      return url ? `- [${item.subject}](${url})` : `- ${item.subject}`;
    }),
    ...more(DIGEST_LISTED_MARKDOWN).map((l) => `- ${l}`),
  ];
  const first = items[0]?.templateParams;
  return {
    subject: `【通知汇总】${items.length} 条工单通知（${breakdown}）`,
    text: text.join('\n'),
    markdown: markdown.join('\n'),
    templateParams: {
      event: '通知汇总',
      number: `${first?.number ?? '-'} 等 ${items.length} 条`,
      severity,
      host: first?.host ?? '-',
      summary: `${items.length} 条工单通知（${breakdown}）`,
      deadline: '-',
    },
  };
}
