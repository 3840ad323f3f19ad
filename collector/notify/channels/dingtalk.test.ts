import { createHmac } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import { afterEach, describe, expect, it } from 'vitest';
import { type LoopbackServer, type RecordedRequest, startLoopbackServer } from '../testing/loopback-http.js';
import { testDeps } from '../testing/test-deps.js';
import { dingtalk, dingtalkSign } from './dingtalk.js';

const TOKEN = 'b3c1f0d9e8a7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1';
const SECRET = 'SEC1f2e3d4c5b6a79881726354453627181920abcdef0123456789abcdef01234567';

/** DingTalk's checks, computed here from the secret independently of the channel. */
function dingtalkStub(clock: { now: number }) {
  return (req: RecordedRequest) => {
    const q = req.url.searchParams;
    if (q.get('access_token') !== TOKEN) return { json: { errcode: 300001, errmsg: 'token is not exist' } };
    const timestamp = Number(q.get('timestamp'));
    if (!Number.isFinite(timestamp) || Math.abs(clock.now - timestamp) > 3_600_000) {
      return {
        json: {
          errcode: 310000,
          errmsg: 'invalid timestamp, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]',
        },
      };
    }
    const expected = createHmac('sha256', SECRET).update(`${timestamp}\n${SECRET}`).digest('base64');
    // The raw query must carry the URL-encoded base64 ('+' as %2B, '/' as %2F, '=' as %3D).
    const raw = /[?&]sign=([^&]*)/.exec(req.url.search)?.[1] ?? '';
    if (raw !== encodeURIComponent(expected)) {
      return {
        json: {
          errcode: 310000,
          errmsg: 'sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]',
        },
      };
    }
    const body = JSON.parse(req.body) as { msgtype: string; text?: { content: string } };
    if (body.text?.content === 'fast') {
      return { json: { errcode: 130101, errmsg: 'send too fast, exceed 20 times per minute' } };
    }
    return { json: { errcode: 0, errmsg: 'ok' } };
  };
}

let server: LoopbackServer;
afterEach(async () => server?.close());

async function setup(secret = SECRET) {
  const { deps, clock } = testDeps({ DT_TOKEN: TOKEN, DT_SECRET: secret });
  server = await startLoopbackServer(dingtalkStub(clock));
  const options = Value.Default(dingtalk.options, {
    endpoint: `${server.url}/robot/send`,
    accessToken: { env: 'DT_TOKEN' },
    secret: { env: 'DT_SECRET' },
  }) as Parameters<typeof dingtalk.create>[0];
  return { ch: dingtalk.create(options, deps), clock };
}

const msg = { to: [], subject: '【P2】门户栏目未更新', text: '工单 FLT-2026-0043：信用动态栏目 5 天未更新' };

describe('dingtalk', () => {
  it('signs like the DingTalk documentation: base64 HMAC-SHA256 of "timestamp\\nsecret"', () => {
    const expected = createHmac('sha256', 'SECxyz').update('1700000000000\nSECxyz').digest('base64');
    expect(dingtalkSign(1_700_000_000_000, 'SECxyz')).toBe(expected);
  });

  it('delivers a signed text message with @mobiles', async () => {
    const { ch, clock } = await setup();
    expect(await ch.send({ ...msg, to: ['13900000000'] })).toEqual({ ok: true });
    const req = server.requests[0]!;
    expect(req.url.searchParams.get('timestamp')).toBe(String(clock.now));
    expect(JSON.parse(req.body)).toEqual({
      msgtype: 'text',
      text: { content: msg.text },
      at: { atMobiles: ['13900000000'], isAtAll: false },
    });
  });

  it('sends markdown with the subject as title', async () => {
    const { ch } = await setup();
    expect(await ch.send({ ...msg, markdown: '### 门户栏目未更新' })).toEqual({ ok: true });
    expect(JSON.parse(server.requests[0]!.body)).toEqual({
      msgtype: 'markdown',
      markdown: { title: msg.subject, text: '### 门户栏目未更新' },
    });
  });

  it('reports a wrong secret (errcode 310000, HTTP 200) as a failure, not retried', async () => {
    const { ch } = await setup('SECwrong');
    const result = await ch.send(msg);
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(result.ok === false && result.error).toMatch(/安全设置校验失败.*errcode 310000 sign not match/);
    expect(result.ok === false && result.error).not.toContain('SECwrong');
  });

  it('retries after a minute on errcode 130101', async () => {
    const { ch } = await setup();
    expect(await ch.send({ ...msg, text: 'fast' })).toMatchObject({
      ok: false,
      retryable: true,
      retryAfterMs: 60_000,
    });
  });

  it('holds the 21st message of a minute back locally', async () => {
    const { ch, clock } = await setup();
    for (let i = 0; i < 20; i++) expect(await ch.send(msg)).toEqual({ ok: true });
    clock.now += 59_999;
    expect(await ch.send(msg)).toMatchObject({ ok: false, retryable: true, retryAfterMs: 1 });
    expect(server.requests).toHaveLength(20);
    clock.now += 1;
    expect(await ch.send(msg)).toEqual({ ok: true });
  });
});
