/**
 * Grouping (`outbox.groupWindowSeconds`): the first message to a receiver after a quiet spell
 * goes out at once; what follows within the window leaves as one digest when it closes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ticketDb } from '../store/ticket-tables.js';
import { amPayload, type Kit, RecordingChannel, ticketKit } from '../tickets/test-kit.js';
import { renderDigest } from './templates.js';

const kits: Kit[] = [];
afterEach(async () => {
  while (kits.length > 0) await kits.pop()!.close();
});

const policy = (window: number) => `
channels:
  mail: { kind: sms-webhook, url: "http://127.0.0.1:9/a", body: "{{text}}" }
  robot: { kind: sms-webhook, url: "http://127.0.0.1:9/b", body: "{{text}}" }
routes:
  - name: all
    receivers: [{ channel: mail, to: ["ops@example.gov.cn"] }, { channel: robot }]
outbox: { groupWindowSeconds: ${window} }
`;

const alert = (n: number, status: 'firing' | 'resolved' = 'firing') => ({
  status,
  fingerprint: `fp${n}`,
  startsAt: '2026-05-11T01:59:00Z',
  labels: { host: `web-${String(n).padStart(2, '0')}`, severity: 'P2' },
  summary: `主机 web-${String(n).padStart(2, '0')} 无法访问`,
});

async function setup(window: number) {
  const mail = new RecordingChannel();
  const robot = new RecordingChannel();
  const k = await ticketKit({
    notificationPolicy: policy(window),
    channels: new Map([
      ['mail', mail],
      ['robot', robot],
    ]),
  });
  kits.push(k);
  return { k, mail, robot };
}

describe('outbox grouping', () => {
  it('sends the first at once, merges the next ones per receiver into one digest when the window closes', async () => {
    const { k, mail, robot } = await setup(60);
    await k.webhook(amPayload([alert(1)]));
    await k.tick();
    expect(mail.sent.map((m) => m.subject)).toEqual(['【新工单】[P2] INC-2026-0001 主机 web-01 无法访问']);
    expect(robot.calls).toBe(1);

    // A storm: 40 alerts in one payload, the first resolved, within the window.
    await k.webhook(amPayload([...Array.from({ length: 40 }, (_, i) => alert(i + 2)), alert(1, 'resolved')]));
    k.clock.ms += 30_000;
    await k.tick();
    expect([mail.calls, robot.calls]).toEqual([1, 1]);
    const pending = await ticketDb(k.store)
      .selectFrom('outbox')
      .selectAll()
      .where('state', '=', 'pending')
      .execute();
    expect(pending).toHaveLength(82);
    expect(new Set(pending.map((r) => r.next_attempt_at))).toEqual(new Set(['2026-05-11T02:01:00.000Z']));

    k.clock.ms += 30_000;
    await k.tick();
    expect([mail.calls, robot.calls]).toEqual([2, 2]);
    const digest = mail.sent[1]!;
    expect(digest.to).toEqual(['ops@example.gov.cn']);
    expect(digest.subject).toBe('【通知汇总】41 条工单通知（新工单 40 条，已恢复 1 条）');
    const lines = digest.text.split('\n');
    expect(lines.slice(0, 5)).toEqual([
      '60 秒内共有 41 条工单通知（新工单 40 条，已恢复 1 条），合并为一条发送：',
      '',
      '1. 【新工单】[P2] INC-2026-0002 主机 web-02 无法访问',
      '   链接：https://ops.credit.example.gov.cn/tickets/INC-2026-0002',
      '2. 【新工单】[P2] INC-2026-0003 主机 web-03 无法访问',
    ]);
    expect(lines).toContain('41. 【已恢复】[P2] INC-2026-0001 主机 web-01 无法访问');
    expect(robot.sent[1]!.markdown?.split('\n')).toHaveLength(1 + 20 + 1);

    const states = await ticketDb(k.store).selectFrom('outbox').select('state').execute();
    expect(states.every((r) => r.state === 'sent')).toBe(true);
    const t = (await k.api('GET', '/api/v1/tickets/INC-2026-0007', k.tokens.viewer)).json();
    expect(
      t.events
        .filter((e: { type: string }) => e.type === 'notification_sent')
        .map((e: { message: string }) => e.message),
    ).toEqual([
      '通知已发送（mail → ops@example.gov.cn），与其他 40 条通知合并为一条汇总',
      '通知已发送（robot → 群机器人），与其他 40 条通知合并为一条汇总',
    ]);
    // Quiet again for a window: the next one goes out alone, at once.
    k.clock.ms += 61_000;
    await k.webhook(amPayload([{ ...alert(99), startsAt: '2026-05-11T02:03:00Z' }]));
    await k.tick();
    expect(mail.sent.at(-1)!.subject).toBe('【新工单】[P2] INC-2026-0042 主机 web-99 无法访问');
  });

  it('a failed digest is retried as a whole, and the retry is one message again', async () => {
    const { k, mail } = await setup(10);
    await k.webhook(amPayload([alert(1)]));
    await k.tick();
    mail.script.push({ ok: false, retryable: true, error: '网关超时 / timeout' });
    await k.webhook(amPayload([alert(2), alert(3)]));
    k.clock.ms += 10_000;
    await k.tick();
    expect(mail.calls).toBe(2);
    const rows = await ticketDb(k.store)
      .selectFrom('outbox')
      .selectAll()
      .where('channel', '=', 'mail')
      .execute();
    expect(rows.map((r) => [r.state, r.attempts]).sort()).toEqual([
      ['pending', 1],
      ['pending', 1],
      ['sent', 1],
    ]);
    k.clock.ms += 30_000;
    await k.tick();
    expect(mail.calls).toBe(3);
    expect(mail.sent.at(-1)!.subject).toBe('【通知汇总】2 条工单通知（新工单 2 条）');
  });

  it('groupWindowSeconds 0 (the default) sends each message on its own', async () => {
    const { k, mail } = await setup(0);
    await k.webhook(amPayload([alert(1), alert(2), alert(3)]));
    await k.tick();
    expect(mail.sent.map((m) => m.subject)).toEqual([
      '【新工单】[P2] INC-2026-0001 主机 web-01 无法访问',
      '【新工单】[P2] INC-2026-0002 主机 web-02 无法访问',
      '【新工单】[P2] INC-2026-0003 主机 web-03 无法访问',
    ]);
  });

  it('a digest lists 200 messages in its text and counts the rest', () => {
    const items = Array.from({ length: 250 }, (_, i) => ({
      subject: `【新工单】[P${(i % 3) + 1}] INC-2026-${String(i + 1).padStart(4, '0')} 告警`,
      text: `链接：https://x/tickets/INC-2026-${String(i + 1).padStart(4, '0')}`,
      severity: `P${(i % 3) + 1}`,
      templateParams: { number: `INC-2026-${String(i + 1).padStart(4, '0')}`, host: 'h' },
    }));
    const d = renderDigest(items, 60);
    expect(d.text.split('\n').at(-1)).toBe('……另有 50 条，请在工单列表中查看');
    expect(d.templateParams).toMatchObject({ severity: 'P1', number: 'INC-2026-0001 等 250 条' });
  });
});
