/** GET /: a small server-rendered page (Chinese first) listing the agents and whether they are up. */
import type { FastifyInstance } from 'fastify';
import { agentUp } from '../exposition/self-metrics.js';
import { type Agent, listAgents } from '../store/agents.js';

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Beijing time, the way the operations team reads it. */
function formatTime(iso: string | null): string {
  if (iso === null) return '—';
  const d = new Date(Date.parse(iso) + 8 * 3600_000);
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} (UTC+8)`;
}

export function renderHomePage(input: {
  agents: readonly Agent[];
  nowMs: number;
  staleAfterIntervals: number;
  version: string;
}): string {
  const rows = input.agents.map((a) => {
    const up = agentUp(a, input.nowMs, input.staleAfterIntervals);
    const state = a.lastSeenAt === null ? ['never', '从未上报'] : up ? ['up', '在线'] : ['down', '离线'];
    const inv = a.inventory;
    return `<tr class="${state[0]}"><td>${escapeHtml(a.name)}</td><td>${state[1]}</td><td>${formatTime(a.lastSeenAt)}</td><td>${escapeHtml(inv?.hostname ?? '—')}</td><td>${escapeHtml(inv?.os ?? '—')}</td><td>${escapeHtml(a.lastAddress ?? '—')}</td></tr>`;
  });
  const upCount = input.agents.filter((a) => agentUp(a, input.nowMs, input.staleAfterIntervals)).length;
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>creditops 采集器</title>
<style>
body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}
tr.up td:nth-child(2){color:#1a7f37}tr.down td:nth-child(2){color:#cf222e;font-weight:bold}tr.never td:nth-child(2){color:#888}
</style>
</head>
<body>
<h1>creditops 采集器 <small>Collector</small></h1>
<p>已登记代理 ${input.agents.length} 个，在线 ${upCount} 个。超过 ${input.staleAfterIntervals} 个上报周期未上报即视为离线。</p>
<table>
<thead><tr><th>代理名称</th><th>状态</th><th>最后上报时间</th><th>主机名</th><th>操作系统</th><th>来源地址</th></tr></thead>
<tbody>
${rows.length > 0 ? rows.join('\n') : '<tr><td colspan="6">尚无代理。使用 <code>creditops agent enroll &lt;名称&gt;</code> 登记。</td></tr>'}
</tbody>
</table>
<p><a href="/metrics">/metrics</a> · <a href="/api/v1/sd">/api/v1/sd</a> · <a href="/healthz">/healthz</a> · creditops ${escapeHtml(input.version)}</p>
</body>
</html>
`;
}

export default async function homeRoutes(app: FastifyInstance): Promise<void> {
  const { config, store, now, version } = app.collector;
  app.get('/', async (_request, reply) => {
    const agents = await listAgents(store);
    const html = renderHomePage({
      agents,
      nowMs: now(),
      staleAfterIntervals: config.staleAfterIntervals,
      version,
    });
    return reply.type('text/html; charset=utf-8').send(html);
  });
}
