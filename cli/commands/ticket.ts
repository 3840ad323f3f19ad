/**
 * `creditops ticket …`: works tickets through the collector's API with a user token
 * (`--token-file` or CREDITOPS_TOKEN; from `creditops user add`). Output is Chinese-first tables;
 * `--json` prints the API's answer.
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { displayWidth } from '../../lib/text-width.js';

interface Connection {
  url: string;
  token: string;
}

interface GlobalOptions {
  url: string;
  tokenFile?: string;
  json?: boolean;
}

const KINDS = ['fault', 'objection', 'change', 'force_majeure', 'rectification', 'account', 'vulnerability'];
const KIND_TITLE: Record<string, string> = {
  fault: '故障',
  objection: '异议',
  change: '功能变更',
  force_majeure: '不可抗力',
  rectification: '整改',
  account: '账号',
  vulnerability: '漏洞',
};
const STATUS_TITLE: Record<string, string> = {
  open: '待响应',
  acknowledged: '处理中',
  resolved: '已解决',
  closed: '已关闭',
};
const CLOCK_TITLE: Record<string, string> = {
  respond: '响应',
  restore: '恢复',
  answer: '答复',
  research: '需求调研',
  delivery: '交付',
  notify: '告知',
  rectify: '整改',
  resolve: '办结',
  fix: '修复',
};

function connection(opts: GlobalOptions): Connection {
  let token = process.env.CREDITOPS_TOKEN?.trim() ?? '';
  if (opts.tokenFile) {
    try {
      token = readFileSync(opts.tokenFile, 'utf8').trim();
    } catch (cause) {
      throw new Error(`cannot read the token file ${opts.tokenFile}: ${(cause as Error).message}`, { cause });
    }
  }
  if (!token)
    throw new Error(
      'no user token: pass --token-file <file> or set CREDITOPS_TOKEN (create one with `creditops user add <name> --role engineer`)',
    );
  return { url: opts.url.replace(/\/+$/, ''), token };
}

async function call(
  c: Connection,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await fetch(`${c.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${c.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch (cause) {
    throw new Error(
      `cannot reach the collector at ${c.url}: ${(cause as Error).message} (is it running? --url)`,
      { cause },
    );
  }
  const text = await res.text();
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`${method} ${path}: HTTP ${res.status}: ${text.slice(0, 200)}`);
  }
  if (!res.ok)
    throw new Error(
      `${method} ${path}: HTTP ${res.status} ${String(json.error ?? '')}: ${String(json.message ?? text)}`,
    );
  return json;
}

export function renderTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) =>
    Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i] ?? ''))),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell + ' '.repeat(widths[i]! - displayWidth(cell))))
      .join('  ')
      .trimEnd();
  return `${[line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')}\n`;
}

interface TicketJson {
  number: string;
  kind: string;
  severity: string;
  status: string;
  title: string;
  host: string | null;
  assignee: string | null;
  openedAt: string;
  deadlines: { clock: string; display: string; state: string }[];
  events?: { at: string; actor: string; message: string }[];
}

const local = (iso: string | null) =>
  iso ? new Date(Date.parse(iso) + 8 * 3600_000).toISOString().slice(0, 16).replace('T', ' ') : '—';
const stateMark = (s: string) => (s === 'met' ? '（已满足）' : s === 'missed' ? '（已超期）' : '');

function printTicket(t: TicketJson): void {
  const out = [
    `${t.number}  ${STATUS_TITLE[t.status] ?? t.status}  ${t.severity}  ${KIND_TITLE[t.kind] ?? t.kind}`,
    `摘要：${t.title}`,
    `主机：${t.host ?? '—'}　处理人：${t.assignee ?? '—'}　创建：${local(t.openedAt)}（北京时间）`,
    ...t.deadlines.map((d) => `${CLOCK_TITLE[d.clock] ?? d.clock}期限：${d.display}${stateMark(d.state)}`),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
  if (t.events) {
    process.stdout.write(
      `\n处理记录：\n${renderTable(
        ['时间', '操作人', '内容'],
        t.events.map((e) => [local(e.at), e.actor, e.message]),
      )}`,
    );
  }
}

export function ticketCommand(): Command {
  const ticket = new Command('ticket')
    .description('工单 / tickets: list, show, open, ack, resolve, close, comment (through the collector API)')
    .option('--url <url>', 'the collector', 'http://127.0.0.1:9470')
    .option('--token-file <file>', 'file with a user token (default: CREDITOPS_TOKEN)')
    .option('--json', 'print the API answer as JSON');
  const globals = (cmd: Command) => cmd.optsWithGlobals() as GlobalOptions;

  const done = (cmd: Command, json: Record<string, unknown>) => {
    if (globals(cmd).json) process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    else printTicket(json as unknown as TicketJson);
  };

  ticket
    .command('list')
    .description('list tickets (default: not yet resolved)')
    .option('--status <status>', 'active | open,acknowledged,resolved,closed | all', 'active')
    .addOption(new Option('--kind <kind>').choices(KINDS))
    .addOption(new Option('--severity <severity>').choices(['P1', 'P2', 'P3']))
    .option('--limit <n>', 'at most this many', '100')
    .action(
      async (opts: { status: string; kind?: string; severity?: string; limit: string }, cmd: Command) => {
        const q = new URLSearchParams();
        if (opts.status !== 'all') q.set('status', opts.status);
        if (opts.kind) q.set('kind', opts.kind);
        if (opts.severity) q.set('severity', opts.severity);
        q.set('limit', opts.limit);
        const json = await call(connection(globals(cmd)), 'GET', `/api/v1/tickets?${q}`);
        if (globals(cmd).json) return void process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
        const tickets = json.tickets as TicketJson[];
        if (tickets.length === 0) return void process.stdout.write('没有工单。/ no tickets.\n');
        process.stdout.write(
          renderTable(
            ['编号', '状态', '级别', '类型', '主机', '创建时间', '期限', '摘要'],
            tickets.map((t) => {
              const next = t.deadlines.find((d) => d.state === 'pending') ?? t.deadlines[0];
              return [
                t.number,
                STATUS_TITLE[t.status] ?? t.status,
                t.severity,
                KIND_TITLE[t.kind] ?? t.kind,
                t.host ?? '—',
                local(t.openedAt),
                next
                  ? `${CLOCK_TITLE[next.clock] ?? next.clock} ${next.display}${stateMark(next.state)}`
                  : '—',
                t.title,
              ];
            }),
          ),
        );
      },
    );

  ticket
    .command('show')
    .description('a ticket with its deadlines and timeline')
    .argument('<number>', 'e.g. INC-2026-0001')
    .action(async (number: string, _opts: unknown, cmd: Command) => {
      done(cmd, await call(connection(globals(cmd)), 'GET', `/api/v1/tickets/${encodeURIComponent(number)}`));
    });

  ticket
    .command('open')
    .description('open a ticket by hand (an objection letter, a change request, a fault reported by phone…)')
    .addOption(new Option('--kind <kind>').choices(KINDS).makeOptionMandatory())
    .addOption(new Option('--severity <severity>').choices(['P1', 'P2', 'P3']).default('P3'))
    .requiredOption('--title <text>', 'summary (Chinese)')
    .option('--description <text>')
    .option('--host <host>')
    .option('--assignee <name>')
    .option('--received-at <iso>', 'when it was received (ISO 8601), if not now')
    .action(
      async (
        opts: {
          kind: string;
          severity: string;
          title: string;
          description?: string;
          host?: string;
          assignee?: string;
          receivedAt?: string;
        },
        cmd: Command,
      ) => {
        const body = {
          kind: opts.kind,
          severity: opts.severity,
          title: opts.title,
          ...(opts.description ? { description: opts.description } : {}),
          ...(opts.host ? { host: opts.host } : {}),
          ...(opts.assignee ? { assignee: opts.assignee } : {}),
          ...(opts.receivedAt ? { receivedAt: new Date(opts.receivedAt).toISOString() } : {}),
        };
        done(cmd, await call(connection(globals(cmd)), 'POST', '/api/v1/tickets', body));
      },
    );

  const actions: [string, string, string][] = [
    ['ack', 'ack', 'acknowledge (响应): stops the response clock and the escalation'],
    ['resolve', 'resolve', 'resolved (已解决)'],
    ['close', 'close', 'close (关闭)'],
    ['reopen', 'reopen', 'reopen (重新打开)'],
  ];
  for (const [name, path, description] of actions) {
    ticket
      .command(name)
      .description(description)
      .argument('<number>')
      .option('--note <text>', 'a note for the timeline')
      .action(async (number: string, opts: { note?: string }, cmd: Command) => {
        done(
          cmd,
          await call(
            connection(globals(cmd)),
            'POST',
            `/api/v1/tickets/${encodeURIComponent(number)}/${path}`,
            opts.note ? { note: opts.note } : {},
          ),
        );
      });
  }

  ticket
    .command('comment')
    .description('add a comment to the timeline')
    .argument('<number>')
    .argument('<text>')
    .action(async (number: string, text: string, _opts: unknown, cmd: Command) => {
      done(
        cmd,
        await call(
          connection(globals(cmd)),
          'POST',
          `/api/v1/tickets/${encodeURIComponent(number)}/comment`,
          { text },
        ),
      );
    });

  ticket
    .command('confirm')
    .description('change: the bureau confirmed the research; the 20-working-day delivery clock starts')
    .argument('<number>')
    .option('--at <iso>', 'when the bureau confirmed, if not now')
    .action(async (number: string, opts: { at?: string }, cmd: Command) => {
      done(
        cmd,
        await call(
          connection(globals(cmd)),
          'POST',
          `/api/v1/tickets/${encodeURIComponent(number)}/confirm`,
          opts.at ? { at: new Date(opts.at).toISOString() } : {},
        ),
      );
    });

  return ticket;
}
