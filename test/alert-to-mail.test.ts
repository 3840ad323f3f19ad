/**
 * The alerting path end to end with real processes: an agent's pushes stop, Debian's Prometheus
 * fires CreditopsAgentDown (the rule from rules/host.rules.yml, `for:` shortened), Debian's
 * Alertmanager (deploy/alertmanager.yml, shorter waits) posts to the collector's webhook with the
 * token file, the collector opens a ticket and its outbox mails a real SMTP server (STARTTLS
 * required, CA generated here). The pushes resume: the ticket is resolved and a recovery mail
 * arrives. Subjects, display names and bodies are decoded with postal-mime and compared exactly.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addViewer,
  type CollectorSetup,
  collectorSetup,
  decodeMail,
  enrollAgent,
  getTicket,
  listTickets,
  MAIL_FROM,
  MAIL_TO,
  mailPolicy,
  pushGauges,
  shippedRule,
  startAlertmanager,
  startPrometheus,
  type TestSmtp,
  testSmtp,
  waitHealthy,
} from './helpers/alerting.js';
import { type Daemon, tempDir, waitFor } from './helpers/processes.js';

const HOST = 'e2e-db-01';
const SUMMARY = `主机 ${HOST} 的监控代理已停止上报`;

describe('Prometheus → Alertmanager → collector → ticket → mail (real processes)', () => {
  const dir = tempDir('alert-mail');
  const daemons: Daemon[] = [];
  let smtp: TestSmtp;
  let collector: CollectorSetup;
  let agentToken = '';
  let viewer = '';
  let pushing: NodeJS.Timeout | null = null;
  const agentStartedAt = new Date().toISOString();

  const startPushing = () => {
    const push = () =>
      void pushGauges(collector.url, agentToken, HOST, { creditops_e2e_heartbeat: 1 }, agentStartedAt).catch(
        () => {},
      );
    push();
    pushing = setInterval(push, 300);
  };
  const stopPushing = () => {
    if (pushing) clearInterval(pushing);
    pushing = null;
  };

  beforeAll(async () => {
    smtp = await testSmtp(dir.path, 'starttls');
    await smtp.listen();
    collector = await collectorSetup(dir.path, mailPolicy(smtp, 'starttls'));
    agentToken = enrollAgent(collector.configFile, HOST, join(dir.path, 'agent.token'));
    viewer = addViewer(collector.configFile, join(dir.path, 'viewer.token'));
    daemons.push(collector.start());
    await waitHealthy(collector.url, daemons);
    startPushing();
    const am = await startAlertmanager(dir.path, collector, { groupWait: '1s', groupInterval: '1s' });
    daemons.push(am.daemon);
    const rules = shippedRule(dir.path, 'host.rules.yml', 'CreditopsAgentDown', '1s');
    daemons.push((await startPrometheus(dir.path, collector.port, am.port, rules, '1s')).daemon);
  });

  afterAll(async () => {
    stopPushing();
    await Promise.all(daemons.map((d) => d.stop()));
    await smtp?.close();
    dir.remove();
  });

  it('the agent falls silent: one ticket, one Chinese mail that decodes exactly', async () => {
    // Let Prometheus see the agent up before it falls silent, so the alert has a clear start.
    await new Promise((r) => setTimeout(r, 2500));
    expect(smtp.mails).toHaveLength(0);
    stopPushing();
    const raw = await waitFor('the new-ticket mail', async () => smtp.mails[0]?.raw, 45_000, daemons);
    const [ticket] = await listTickets(collector.url, viewer);
    expect(ticket).toMatchObject({ status: 'open', title: SUMMARY });
    const number = ticket!.number;
    expect(number).toMatch(/^INC-\d{4}-\d{4}$/);

    const mail = await decodeMail(raw);
    expect(mail.subject).toBe(`【新工单】[P2] ${number} ${SUMMARY}`);
    expect(mail.from).toEqual(MAIL_FROM);
    expect(mail.to).toEqual([MAIL_TO]);
    expect(mail.text?.trimEnd().split('\n')).toEqual([
      `新工单：${SUMMARY}`,
      '',
      `工单编号：${number}`,
      '类型：故障　级别：P2',
      `主机：${HOST}`,
      '服务：CreditopsAgentDown',
      `摘要：${SUMMARY}`,
      expect.stringMatching(
        new RegExp(`^详情：主机 ${HOST} 的 creditops-agent 已超过 2 分钟未向采集中心推送数据。`),
      ),
      expect.stringMatching(/^响应期限：\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/),
      expect.stringMatching(/^恢复期限：\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/),
      `链接：https://ops.credit.example.gov.cn/tickets/${number}`,
    ]);
  });

  it('the agent pushes again: the ticket is resolved and a recovery mail arrives, still one ticket', async () => {
    startPushing();
    const raw = await waitFor('the recovery mail', async () => smtp.mails[1]?.raw, 45_000, daemons);
    const tickets = await listTickets(collector.url, viewer);
    expect(tickets).toHaveLength(1);
    const number = tickets[0]!.number;
    const mail = await decodeMail(raw);
    expect(mail.subject).toBe(`【已恢复】[P2] ${number} ${SUMMARY}`);
    expect(mail.from).toEqual(MAIL_FROM);
    expect(mail.to).toEqual([MAIL_TO]);
    expect(mail.text).toContain(`已恢复：${SUMMARY}\n\n工单编号：${number}\n`);
    expect(mail.text).toContain(`链接：https://ops.credit.example.gov.cn/tickets/${number}`);
    const t = await getTicket(collector.url, viewer, number);
    expect(t.status).toBe('resolved');
    expect(t.notifications.map((n) => [n.reason, n.state])).toEqual([
      ['opened', 'sent'],
      ['resolved', 'sent'],
    ]);
    // Nothing else went out (no repeat, no twin).
    await new Promise((r) => setTimeout(r, 1500));
    expect(smtp.mails).toHaveLength(2);
  });
});
