/** A readable Chinese table of an inspection report for the terminal. */

import { displayWidth } from '../../lib/text-width.js';
import type { CheckStatus } from '../../probes/types.js';
import type { InspectionCheck } from './report.js';

const STATUS_ZH: Record<CheckStatus, string> = { OK: '正常', WARN: '警告', CRIT: '严重', UNKNOWN: '未知' };
const ORDER: Record<CheckStatus, number> = { CRIT: 0, WARN: 1, UNKNOWN: 2, OK: 3 };

function padCell(text: string, width: number): string {
  let out = '';
  let w = 0;
  for (const ch of text) {
    const cw = displayWidth(ch);
    if (w + cw > width) {
      out = `${out.slice(0, -1)}…`;
      w = displayWidth(out);
      break;
    }
    out += ch;
    w += cw;
  }
  return out + ' '.repeat(Math.max(0, width - w));
}

export function renderTable(headers: string[], rows: string[][], maxWidths: number[]): string {
  const widths = headers.map((h, i) =>
    Math.min(maxWidths[i] ?? 80, Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i] ?? '')))),
  );
  const line = (cells: string[]) => `│ ${cells.map((c, i) => padCell(c, widths[i]!)).join(' │ ')} │`;
  const rule = (l: string, m: string, r: string) => `${l}${widths.map((w) => '─'.repeat(w + 2)).join(m)}${r}`;
  return [
    rule('┌', '┬', '┐'),
    line(headers),
    rule('├', '┼', '┤'),
    ...rows.map(line),
    rule('└', '┴', '┘'),
  ].join('\n');
}

export function renderReport(host: string, day: string, summary: string, checks: InspectionCheck[]): string {
  const sorted = [...checks].sort(
    (a, b) => ORDER[a.status] - ORDER[b.status] || a.check.localeCompare(b.check),
  );
  const rows = sorted.map((c) => [STATUS_ZH[c.status], c.title, c.target ?? '', c.summary]);
  const table = renderTable(['状态', '检查项', '对象', '说明'], rows, [4, 28, 22, 70]);
  // One line per check, naming every target it failed on.
  const fixes = new Map<
    string,
    { title: string; targets: string[]; remediation: string; clause: string | null }
  >();
  for (const c of sorted) {
    if (c.status === 'OK' || !c.remediation) continue;
    const entry = fixes.get(c.check) ?? {
      title: c.title,
      targets: [],
      remediation: c.remediation,
      clause: c.clause,
    };
    if (c.target) entry.targets.push(c.target);
    fixes.set(c.check, entry);
  }
  const unique = [...fixes.values()].map(
    (f) =>
      `  · ${f.title}${f.targets.length > 0 ? `（${f.targets.join('、')}）` : ''}：${f.remediation}${f.clause ? ` [${f.clause}]` : ''}`,
  );
  return [
    `日常巡检报告  主机：${host}  日期：${day}`,
    summary,
    table,
    ...(unique.length > 0 ? ['整改建议：', ...unique] : []),
  ].join('\n');
}
