/**
 * WeCom answers HTTP 200 whether or not it sent the message; only `errcode` says. Through the
 * outbox, an answer of 200 with errcode 45009 (rate limit) is a failed attempt that is retried
 * no sooner than the minute WeCom asks for, and the retry that gets errcode 0 is the one send.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ticketDb } from '../store/ticket-tables.js';
import { amPayload, type Kit, ticketKit } from '../tickets/test-kit.js';
import { type LoopbackServer, startLoopbackServer } from './testing/loopback-http.js';

const KEY = '693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa';

let server: LoopbackServer | undefined;
let kit: Kit | undefined;
afterEach(async () => {
  await kit?.close();
  await server?.close();
  kit = undefined;
  server = undefined;
});

describe('outbox with a WeCom robot stand-in', () => {
  it('HTTP 200 with errcode 45009 is a failure, retried after the wait; errcode 0 then sends it once', async () => {
    const answers = [
      { errcode: 45009, errmsg: 'api freq out of limit' },
      { errcode: 0, errmsg: 'ok' },
    ];
    server = await startLoopbackServer((req) => {
      if (req.method !== 'POST' || req.url.pathname !== '/cgi-bin/webhook/send')
        return { status: 404, text: 'not found' };
      if (req.url.searchParams.get('key') !== KEY)
        return { json: { errcode: 93000, errmsg: 'invalid webhook url' } };
      const body = JSON.parse(req.body) as { msgtype: string };
      if (body.msgtype !== 'text' && body.msgtype !== 'markdown')
        return { json: { errcode: 40008, errmsg: 'invalid message type' } };
      return { status: 200, json: answers.shift() ?? { errcode: 0, errmsg: 'ok' } };
    });
    kit = await ticketKit({
      channelDeps: { env: { WECOM_KEY: KEY } },
      notificationPolicy: `
channels:
  robot: { kind: wecom, endpoint: "${server.url}/cgi-bin/webhook/send", key: { env: WECOM_KEY } }
routes:
  - name: all
    receivers: [{ channel: robot }]
outbox: { initialBackoffSeconds: 5 }
`,
    });
    const k = kit;
    await k.webhook(amPayload([{ status: 'firing', fingerprint: 'w1', startsAt: '2026-05-11T01:59:00Z' }]));
    await k.tick();
    expect(server.requests).toHaveLength(1);
    const rows = () => ticketDb(k.store).selectFrom('outbox').selectAll().execute();
    let [row] = await rows();
    expect(row).toMatchObject({ state: 'pending', attempts: 1 });
    expect(row!.last_error).toMatch(/errcode 45009/);
    // WeCom's rate limit is per minute: the retry waits 60 s, not the 5 s backoff.
    expect(Date.parse(row!.next_attempt_at) - k.clock.ms).toBe(60_000);
    k.clock.ms += 59_000;
    await k.tick();
    expect(server.requests).toHaveLength(1);
    k.clock.ms += 1_000;
    await k.tick();
    expect(server.requests).toHaveLength(2);
    [row] = await rows();
    expect(row).toMatchObject({ state: 'sent', attempts: 2, last_error: null });
    await k.tick();
    expect(server.requests).toHaveLength(2);
    const t = (await k.api('GET', '/api/v1/tickets/INC-2026-0001', k.tokens.viewer)).json();
    expect(t.events.filter((e: { type: string }) => e.type === 'notification_sent')).toHaveLength(1);
  });
});
