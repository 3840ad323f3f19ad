/**
 * GET /tickets and GET /tickets/:number: minimal server-rendered pages (Chinese), the target of
 * the links in notifications. Read-only; like `/`, they rely on the collector being reachable
 * only by the team (loopback or behind the reverse proxy's authentication).
 */
import type { FastifyInstance } from 'fastify';
import { formatDeadline, formatLocal } from '../../tickets/deadlines.js';
import {
  CLOCK_TITLE,
  KIND_TITLE,
  STATUS_TITLE,
  type TicketKind,
  type TicketStatus,
} from '../../tickets/policy.js';
import { TicketError } from '../../tickets/service.js';
import { escapeHtml } from '../home.js';

const STYLE = `body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}
.missed{color:#cf222e;font-weight:bold}.unknown{color:#9a6700}.met{color:#1a7f37}`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>
${body}
</body>
</html>
`;
}

export default async function ticketPages(app: FastifyInstance): Promise<void> {
  const { service, calendar } = app.ticketing;
  const tz = calendar.timeZone;
  const when = (iso: string | null) => (iso ? formatLocal(iso, tz) : '—');

  app.get<{ Querystring: { all?: string } }>('/tickets', async (request, reply) => {
    const all = request.query.all === '1';
    const rows = await service.list(all ? { limit: 500 } : { status: ['open', 'acknowledged'], limit: 500 });
    const lines = rows.map(({ ticket: t, deadlines }) => {
      const due = deadlines
        .map(
          (d) =>
            `<span class="${d.unknown ? 'unknown' : d.state}">${escapeHtml(CLOCK_TITLE[d.clock] ?? d.clock)}：${escapeHtml(formatDeadline(d, tz))}</span>`,
        )
        .join('<br>');
      return `<tr><td><a href="/tickets/${encodeURIComponent(t.number)}">${escapeHtml(t.number)}</a></td><td>${escapeHtml(KIND_TITLE[t.kind as TicketKind] ?? t.kind)}</td><td>${escapeHtml(t.severity)}</td><td>${escapeHtml(STATUS_TITLE[t.status as TicketStatus] ?? t.status)}</td><td>${escapeHtml(t.host ?? '—')}</td><td>${escapeHtml(t.title)}</td><td>${when(t.opened_at)}</td><td>${due || '—'}</td><td>${escapeHtml(t.assignee ?? '—')}</td></tr>`;
    });
    return reply.type('text/html; charset=utf-8').send(
      page(
        '工单列表',
        `<h1>工单 <small>Tickets</small></h1>
<p>${all ? '全部工单' : '未解决的工单'}（${rows.length}）· <a href="/tickets${all ? '' : '?all=1'}">${all ? '只看未解决' : '查看全部'}</a> · 时间为 ${escapeHtml(tz)}</p>
<table><thead><tr><th>编号</th><th>类型</th><th>级别</th><th>状态</th><th>主机</th><th>摘要</th><th>创建时间</th><th>期限</th><th>处理人</th></tr></thead>
<tbody>${lines.join('\n') || '<tr><td colspan="9">没有工单。</td></tr>'}</tbody></table>`,
      ),
    );
  });

  app.get<{ Params: { number: string } }>('/tickets/:number', async (request, reply) => {
    let d: Awaited<ReturnType<typeof service.detail>>;
    try {
      d = await service.detail(request.params.number);
    } catch (error) {
      if (error instanceof TicketError && error.statusCode === 404) {
        return reply
          .code(404)
          .type('text/html; charset=utf-8')
          .send(
            page(
              '工单不存在',
              `<h1>工单 ${escapeHtml(request.params.number)} 不存在</h1><p><a href="/tickets">返回列表</a></p>`,
            ),
          );
      }
      throw error;
    }
    const t = d.ticket;
    const deadlines = d.deadlines
      .map(
        (x) =>
          `<tr><td>${escapeHtml(CLOCK_TITLE[x.clock] ?? x.clock)}</td><td>${when(x.started_at)}</td><td class="${x.unknown ? 'unknown' : ''}">${escapeHtml(formatDeadline(x, tz))}</td><td class="${x.state}">${{ pending: '计时中', met: '已满足', missed: '已超期' }[x.state] ?? x.state}</td><td>${when(x.met_at)}</td></tr>`,
      )
      .join('\n');
    const events = d.events
      .map(
        (e) =>
          `<tr><td>${when(e.at)}</td><td>${escapeHtml(e.actor)}</td><td>${escapeHtml(e.message)}</td></tr>`,
      )
      .join('\n');
    return reply.type('text/html; charset=utf-8').send(
      page(
        `${t.number} ${t.title}`,
        `<h1>${escapeHtml(t.number)} <small>${escapeHtml(STATUS_TITLE[t.status as TicketStatus] ?? t.status)}</small></h1>
<p><strong>${escapeHtml(t.title)}</strong></p>
<table>
<tr><th>类型</th><td>${escapeHtml(KIND_TITLE[t.kind as TicketKind] ?? t.kind)}</td><th>级别</th><td>${escapeHtml(t.severity)}</td></tr>
<tr><th>主机</th><td>${escapeHtml(t.host ?? '—')}</td><th>服务</th><td>${escapeHtml(t.service ?? '—')}</td></tr>
<tr><th>来源</th><td>${escapeHtml(t.source)}</td><th>处理人</th><td>${escapeHtml(t.assignee ?? '—')}</td></tr>
<tr><th>创建</th><td>${when(t.opened_at)}</td><th>响应</th><td>${when(t.acknowledged_at)}</td></tr>
<tr><th>解决</th><td>${when(t.resolved_at)}</td><th>关闭</th><td>${when(t.closed_at)}</td></tr>
</table>
${t.description ? `<h2>详情</h2><p>${escapeHtml(t.description)}</p>` : ''}
<h2>时限</h2>
<table><thead><tr><th>时限</th><th>开始</th><th>期限</th><th>状态</th><th>完成</th></tr></thead><tbody>${deadlines || '<tr><td colspan="5">无</td></tr>'}</tbody></table>
<h2>处理记录</h2>
<table><thead><tr><th>时间</th><th>操作人</th><th>内容</th></tr></thead><tbody>${events}</tbody></table>
<p><a href="/tickets">返回列表</a> · 时间为 ${escapeHtml(tz)}</p>`,
      ),
    );
  });
}
