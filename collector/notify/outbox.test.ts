/**
 * The outbox end to end: a real SMTP server (implicit TLS, generated CA) receives the Chinese
 * mails; restart safety on the same store; retries, give-up and partial failures; escalation,
 * quiet hours and maintenance windows with a moved clock.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PostalMime from 'postal-mime';
import { SMTPServer } from 'smtp-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ticketDb } from '../store/ticket-tables.js';
import { amPayload, type Kit, RecordingChannel, ticketKit } from '../tickets/test-kit.js';
import { makeCa, makeServerCert } from './testing/tls-certs.js';

let dir: string;
let smtpPort: number;
let smtpServer: SMTPServer;
const mails: string[] = [];
const kits: Kit[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'creditops-outbox-'));
  const ca = makeCa('creditops outbox test CA');
  const cert = makeServerCert(ca, { ips: ['127.0.0.1'] });
  writeFileSync(join(dir, 'ca.pem'), ca.certPem);
  smtpServer = new SMTPServer({
    secure: true,
    key: cert.keyPem,
    cert: cert.certPem,
    authMethods: ['PLAIN'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === 'ops' && auth.password === 'pw') return callback(null, { user: 'ops' });
      return callback(new Error('bad credentials'));
    },
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        mails.push(Buffer.concat(chunks).toString('utf8'));
        callback();
      });
    },
  });
  smtpServer.on('error', () => {});
  await new Promise<void>((resolve) => smtpServer.listen(0, '127.0.0.1', resolve));
  smtpPort = (smtpServer.server.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => smtpServer.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  mails.length = 0;
  while (kits.length > 0) await kits.pop()!.close();
});

const mailPolicy = () => `
channels:
  ops-mail:
    kind: smtp
    host: 127.0.0.1
    port: ${smtpPort}
    mode: implicit-tls
    caFile: ${join(dir, 'ca.pem')}
    from: { address: noreply@credit.example.gov.cn, name: 信用平台运维中心 }
    auth: { user: ops, password: { env: SMTP_PASSWORD } }
    timeoutMs: 3000
routes:
  - name: everything
    receivers: [{ channel: ops-mail, to: ["张三 <zhang.san@credit.example.gov.cn>"] }]
`;

async function kit(options: Parameters<typeof ticketKit>[0] = {}): Promise<Kit> {
  const k = await ticketKit({ channelDeps: { env: { SMTP_PASSWORD: 'pw' } }, ...options });
  kits.push(k);
  return k;
}

const firing = amPayload([{ status: 'firing', fingerprint: 'f00d', startsAt: '2026-05-11T01:59:00Z' }]);
const resolved = amPayload([{ status: 'resolved', fingerprint: 'f00d', startsAt: '2026-05-11T01:59:00Z' }]);

async function outboxRows(k: Kit) {
  return ticketDb(k.store).selectFrom('outbox').selectAll().orderBy('created_at').execute();
}

describe('outbox with a real SMTP server', () => {
  it('an alert opens a ticket and a Chinese mail arrives; the recovery resolves it and a recovery mail arrives', async () => {
    const k = await kit({ notificationPolicy: mailPolicy() });
    expect((await k.webhook(firing)).statusCode).toBe(200);
    await k.tick();
    expect(mails).toHaveLength(1);
    const mail = await PostalMime.parse(mails[0]!);
    expect(mail.subject).toBe('【新工单】[P1] INC-2026-0001 主机 db-01 无法访问');
    expect(mail.from).toEqual({ name: '信用平台运维中心', address: 'noreply@credit.example.gov.cn' });
    expect(mail.to).toEqual([{ name: '张三', address: 'zhang.san@credit.example.gov.cn' }]);
    expect(mail.text).toContain('工单编号：INC-2026-0001');
    expect(mail.text).toContain('主机：db-01');
    expect(mail.text).toContain('响应期限：2026-05-11 10:14');
    expect(mail.text).toContain('链接：https://ops.credit.example.gov.cn/tickets/INC-2026-0001');

    expect((await k.webhook(resolved)).statusCode).toBe(200);
    await k.tick();
    expect(mails).toHaveLength(2);
    const recovery = await PostalMime.parse(mails[1]!);
    expect(recovery.subject).toBe('【已恢复】[P1] INC-2026-0001 主机 db-01 无法访问');
    const t = (await k.api('GET', '/api/v1/tickets/INC-2026-0001', k.tokens.viewer)).json();
    expect(t.status).toBe('resolved');
    expect(t.notifications.map((n: { reason: string; state: string }) => [n.reason, n.state])).toEqual([
      ['opened', 'sent'],
      ['resolved', 'sent'],
    ]);
    expect(t.events.filter((e: { type: string }) => e.type === 'notification_sent')).toHaveLength(2);
  });

  it('stopped after writing the ticket, before sending: after a restart the mail is sent exactly once', async () => {
    const first = await kit({ notificationPolicy: mailPolicy() });
    expect((await first.webhook(firing)).statusCode).toBe(200);
    kits.pop();
    await first.close(true); // no drain ran: the message is only in the store
    expect(mails).toHaveLength(0);

    const second = await kit({ notificationPolicy: mailPolicy(), dataDir: first.dataDir });
    // The same delivery again, as Alertmanager retries after a collector restart.
    expect((await second.webhook(firing)).statusCode).toBe(200);
    await second.tick();
    await second.tick();
    expect(mails).toHaveLength(1);
    expect((await outboxRows(second)).map((r) => r.state)).toEqual(['sent']);
    expect((await second.api('GET', '/api/v1/tickets', second.tokens.viewer)).json().tickets).toHaveLength(1);
  });
});

describe('outbox states', () => {
  const recordingPolicy = (extra = '') => `
channels:
  sms: { kind: sms-webhook, url: "http://127.0.0.1:9/send", body: "{{text}}" }
  robot: { kind: wecom, key: { env: WECOM_KEY } }
routes:
  - name: all
    receivers: [{ channel: sms, to: ["13800000000", "13900000000"] }]
outbox: { maxAttempts: 3, initialBackoffSeconds: 30, leaseSeconds: 60, resendAfterCrash: [robot] }
${extra}`;

  it('a message interrupted while sending becomes unknown after its lease and is not sent again', async () => {
    const sms = new RecordingChannel();
    const first = await kit({ notificationPolicy: recordingPolicy(), channels: new Map([['sms', sms]]) });
    await first.webhook(firing);
    // The state a crash leaves: claimed (committed) but no outcome written.
    await ticketDb(first.store)
      .updateTable('outbox')
      .set({ state: 'sending', attempts: 1, lease_until: new Date(first.clock.ms + 60_000).toISOString() })
      .execute();
    kits.pop();
    await first.close(true);

    const second = await kit({
      notificationPolicy: recordingPolicy(),
      channels: new Map([['sms', sms]]),
      dataDir: first.dataDir,
    });
    await second.tick();
    expect((await outboxRows(second))[0]!.state).toBe('sending'); // lease still running: maybe another replica
    second.clock.ms += 61_000;
    await second.tick();
    expect(sms.calls).toBe(0);
    const [row] = await outboxRows(second);
    expect(row).toMatchObject({ state: 'unknown' });
    const t = (await second.api('GET', '/api/v1/tickets/INC-2026-0001', second.tokens.viewer)).json();
    expect(t.events.find((e: { type: string }) => e.type === 'notification_unknown').message).toMatch(
      /是否送达未知，请人工核对/,
    );
    expect((await second.app.inject({ method: 'GET', url: '/metrics' })).body).toContain(
      'creditops_notify_outbox_messages{state="unknown"} 1\n',
    );
    // A person decides to send it again.
    expect(
      (await second.api('POST', `/api/v1/notifications/${row!.id}/requeue`, second.tokens.engineer, {}))
        .statusCode,
    ).toBe(403);
    expect(
      (await second.api('POST', `/api/v1/notifications/${row!.id}/requeue`, second.tokens.admin, {}))
        .statusCode,
    ).toBe(200);
    await second.tick();
    expect(sms.calls).toBe(1);
  });

  it('retries with backoff (honouring retryAfterMs), narrows to the failed recipients, gives up with the reason', async () => {
    const sms = new RecordingChannel();
    sms.script.push(
      {
        ok: false,
        retryable: true,
        error: '短信网关限流 / rate limited',
        retryAfterMs: 90_000,
        failedRecipients: ['13900000000'],
      },
      { ok: false, retryable: true, error: '网关超时 / timeout' },
      { ok: false, retryable: true, error: '网关超时 / timeout' },
    );
    const k = await kit({ notificationPolicy: recordingPolicy(), channels: new Map([['sms', sms]]) });
    await k.webhook(firing);
    await k.tick();
    let [row] = await outboxRows(k);
    expect(row).toMatchObject({ state: 'pending', attempts: 1, recipients: '["13900000000"]' });
    expect(Date.parse(row!.next_attempt_at) - k.clock.ms).toBe(90_000);
    k.clock.ms += 60_000;
    await k.tick();
    expect(sms.calls).toBe(1);
    k.clock.ms += 30_000;
    await k.tick(); // attempt 2 fails; backoff 60 s
    [row] = await outboxRows(k);
    expect(Date.parse(row!.next_attempt_at) - k.clock.ms).toBe(60_000);
    k.clock.ms += 60_000;
    await k.tick(); // attempt 3 fails: maxAttempts reached
    [row] = await outboxRows(k);
    expect(row).toMatchObject({ state: 'failed', attempts: 3, last_error: '网关超时 / timeout' });
    const t = (await k.api('GET', '/api/v1/tickets/INC-2026-0001', k.tokens.viewer)).json();
    expect(
      t.events
        .filter((e: { type: string }) => e.type === 'notification_failed')
        .map((e: { message: string }) => e.message),
    ).toEqual([
      expect.stringMatching(/部分失败.*只向 13900000000 重试/),
      expect.stringMatching(/第 3 次，已放弃.*网关超时/),
    ]);
  });

  it('a non-retryable failure gives up at once', async () => {
    const sms = new RecordingChannel();
    sms.script.push({ ok: false, retryable: false, error: '模板未审核 / template not approved' });
    const k = await kit({ notificationPolicy: recordingPolicy(), channels: new Map([['sms', sms]]) });
    await k.webhook(firing);
    await k.tick();
    expect((await outboxRows(k))[0]).toMatchObject({ state: 'failed', attempts: 1 });
  });
});

describe('escalation, quiet hours and maintenance windows (moved clock)', () => {
  const policy = `
channels:
  first: { kind: sms-webhook, url: "http://127.0.0.1:9/a", body: "{{text}}" }
  second: { kind: sms-webhook, url: "http://127.0.0.1:9/b", body: "{{text}}" }
  third: { kind: sms-webhook, url: "http://127.0.0.1:9/c", body: "{{text}}" }
quietHours: { timeZone: Asia/Shanghai, start: "22:00", end: "08:00" }
routes:
  - name: all
    receivers: [{ channel: first, to: ["13800000001"] }]
    escalation:
      - { afterMinutes: 15, receivers: [{ channel: second, to: ["13800000002"] }] }
      - { afterMinutes: 30, receivers: [{ channel: third, to: ["13800000003"] }] }
`;
  const channels = () => {
    const c = {
      first: new RecordingChannel(),
      second: new RecordingChannel(),
      third: new RecordingChannel(),
    };
    return { c, map: new Map(Object.entries(c)) };
  };

  it('an unacknowledged ticket goes to the next contact step by step until acknowledged', async () => {
    const { c, map } = channels();
    const k = await kit({ notificationPolicy: policy, channels: map });
    await k.webhook(firing);
    await k.tick();
    expect([c.first.calls, c.second.calls, c.third.calls]).toEqual([1, 0, 0]);
    // The ticket opened at the alert's startsAt (01:59), a minute before the clock.
    k.clock.ms += 13 * 60_000;
    await k.tick();
    expect(c.second.calls).toBe(0);
    k.clock.ms += 60_000;
    await k.tick();
    expect([c.first.calls, c.second.calls, c.third.calls]).toEqual([1, 1, 0]);
    expect(c.second.sent[0]!.subject).toBe(
      '【工单升级（第 1 级，未确认）】[P1] INC-2026-0001 主机 db-01 无法访问',
    );
    await k.tick();
    expect(c.second.calls).toBe(1);
    await k.api('POST', '/api/v1/tickets/INC-2026-0001/ack', k.tokens.engineer, {});
    k.clock.ms += 60 * 60_000;
    await k.tick();
    expect([c.first.calls, c.second.calls, c.third.calls]).toEqual([1, 1, 0]);
  });

  it('skips no step when the collector was away: each due step is taken in order', async () => {
    const { c, map } = channels();
    const k = await kit({ notificationPolicy: policy, channels: map });
    await k.webhook(firing);
    k.clock.ms += 45 * 60_000;
    await k.tick();
    expect([c.second.calls, c.third.calls]).toEqual([1, 1]);
    // The first contact had the ticket, then hears that the 15-minute response time was missed.
    expect(c.first.sent.map((m) => m.subject)).toEqual([
      '【新工单】[P1] INC-2026-0001 主机 db-01 无法访问',
      '【工单超期（响应）】[P1] INC-2026-0001 主机 db-01 无法访问',
    ]);
  });

  it('quiet hours defer a P3 notification to 08:00 local; a P1 goes out at night', async () => {
    const { c, map } = channels();
    const k = await kit({
      notificationPolicy: policy,
      channels: map,
      start: Date.parse('2026-05-11T15:00:00Z'),
    }); // 23:00 Beijing
    await k.webhook(
      amPayload([
        {
          status: 'firing',
          fingerprint: 'p3',
          startsAt: '2026-05-11T14:59:00Z',
          labels: { severity: 'P3', host: 'web-01' },
        },
      ]),
    );
    await k.tick();
    expect(c.first.calls).toBe(0);
    const t = (await k.api('GET', '/api/v1/tickets/INC-2026-0001', k.tokens.viewer)).json();
    expect(t.events.find((e: { type: string }) => e.type === 'notification_deferred').message).toBe(
      '静默时段，发往 first 的通知推迟至 2026-05-12 08:00',
    );
    await k.webhook(
      amPayload([
        {
          status: 'firing',
          fingerprint: 'p1',
          startsAt: '2026-05-11T14:59:00Z',
          labels: { severity: 'P1', host: 'db-02' },
        },
      ]),
    );
    await k.tick();
    expect(c.first.sent.map((m) => m.subject)).toEqual([expect.stringContaining('[P1] INC-2026-0002')]);
    await k.api('POST', '/api/v1/tickets/INC-2026-0002/ack', k.tokens.engineer, {});
    const p3 = () => c.first.sent.filter((m) => m.subject.includes('INC-2026-0001'));
    k.clock.ms = Date.parse('2026-05-11T23:59:00Z'); // 07:59
    await k.tick();
    expect(p3()).toEqual([]);
    k.clock.ms = Date.parse('2026-05-12T00:00:00Z'); // 08:00
    await k.tick();
    // Its 2-hour response time ran out at 01:00; that news waited for the morning too.
    expect(p3().map((m) => m.subject)).toEqual([
      '【新工单】[P3] INC-2026-0001 主机 db-01 无法访问',
      '【工单超期（响应）】[P3] INC-2026-0001 主机 db-01 无法访问',
    ]);
  });

  it('a maintenance window holds notifications back: dropped if resolved inside it, sent at its end otherwise', async () => {
    const { c, map } = channels();
    const k = await kit({ notificationPolicy: policy, channels: map });
    const w = await k.api('POST', '/api/v1/maintenance/windows', k.tokens.engineer, {
      name: '每周日例行维护',
      hosts: ['db-01'],
      timeZone: 'Asia/Shanghai',
      start: '2026-05-10T09:00',
      durationMinutes: 120,
      recurrence: 'FREQ=DAILY',
    });
    expect(w.statusCode, w.body).toBe(201);
    await k.webhook(firing); // 10:00, inside today's 09:00–11:00
    await k.webhook(
      amPayload([
        {
          status: 'firing',
          fingerprint: 'other',
          startsAt: '2026-05-11T01:59:00Z',
          labels: { host: 'db-01', alertname: 'PgDown' },
        },
      ]),
    );
    await k.tick();
    expect(c.first.calls).toBe(0);
    await k.webhook(resolved); // the first resolves inside the window
    k.clock.ms = Date.parse('2026-05-11T03:00:00Z'); // 11:00: window over
    await k.tick();
    // The second is still open: its new-ticket mail, and the response time it missed meanwhile.
    expect(c.first.sent.map((m) => m.subject)).toEqual([
      '【新工单】[P1] INC-2026-0002 主机 db-01 无法访问',
      '【工单超期（响应）】[P1] INC-2026-0002 主机 db-01 无法访问',
    ]);
    const states = (await outboxRows(k)).map((r) => [r.reason, r.state]);
    expect(states).toEqual(
      expect.arrayContaining([
        ['opened', 'suppressed'],
        ['resolved', 'suppressed'],
        ['opened', 'sent'],
      ]),
    );
    const held = (await k.api('GET', '/api/v1/maintenance/suppressions', k.tokens.viewer)).json()
      .suppressions;
    expect(new Set(held.map((s: { source: string }) => s.source))).toEqual(new Set(['notification']));
  });
});
