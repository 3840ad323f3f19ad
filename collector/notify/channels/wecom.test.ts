import { Value } from '@sinclair/typebox/value';
import { afterEach, describe, expect, it } from 'vitest';
import { type LoopbackServer, type RecordedRequest, startLoopbackServer } from '../testing/loopback-http.js';
import { testDeps } from '../testing/test-deps.js';
import { TRUNCATION_MARKER, utf8Bytes } from './shared/text-limits.js';
import { WECOM_MARKDOWN_MAX_BYTES, WECOM_TEXT_MAX_BYTES, wecom } from './wecom.js';

const KEY = '693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa';

/** WeCom as it behaves: key check, body checks, byte limits, errcode answers with HTTP 200. */
function wecomStub(req: RecordedRequest) {
  if (req.method !== 'POST' || req.url.pathname !== '/cgi-bin/webhook/send')
    return { status: 404, text: 'not found' };
  if (req.url.searchParams.get('key') !== KEY) {
    return {
      json: {
        errcode: 93000,
        errmsg:
          'invalid webhook url, hint: [1715390000_1_abc], from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e=93000',
      },
    };
  }
  const body = JSON.parse(req.body) as {
    msgtype: string;
    text?: { content: string };
    markdown?: { content: string };
  };
  if (body.msgtype === 'text') {
    if (utf8Bytes(body.text!.content) > 2048) {
      return {
        json: { errcode: 40058, errmsg: 'content exceed max length 2048. invalid Request Parameter' },
      };
    }
  } else if (body.msgtype === 'markdown') {
    if (utf8Bytes(body.markdown!.content) > 4096) {
      return {
        json: {
          errcode: 40058,
          errmsg: 'markdown.content exceed max length 4096. invalid Request Parameter',
        },
      };
    }
  } else {
    return { json: { errcode: 40008, errmsg: 'invalid message type' } };
  }
  if (body.text?.content.includes('busy'))
    return { json: { errcode: 45009, errmsg: 'api freq out of limit' } };
  return { json: { errcode: 0, errmsg: 'ok' } };
}

let server: LoopbackServer;
afterEach(async () => server?.close());

function channel(key = KEY) {
  const { deps, clock } = testDeps({ WECOM_KEY: key });
  const options = Value.Default(wecom.options, {
    endpoint: `${server.url}/cgi-bin/webhook/send`,
    key: { env: 'WECOM_KEY' },
  }) as Parameters<typeof wecom.create>[0];
  return { ch: wecom.create(options, deps), clock };
}

const msg = { to: [], subject: '【P1】数据库主机磁盘将满', text: '工单 FLT-2026-0042：db01 /data 剩余 3%' };

describe('wecom', () => {
  it('sends text with mentions and reports success on errcode 0', async () => {
    server = await startLoopbackServer(wecomStub);
    const { ch } = channel();
    expect(await ch.send({ ...msg, to: ['13800000000'] })).toEqual({ ok: true });
    expect(JSON.parse(server.requests[0]!.body)).toEqual({
      msgtype: 'text',
      text: { content: msg.text, mentioned_mobile_list: ['13800000000'] },
    });
  });

  it('prefers markdown when given', async () => {
    server = await startLoopbackServer(wecomStub);
    const { ch } = channel();
    expect(await ch.send({ ...msg, markdown: '**P1** 磁盘将满' })).toEqual({ ok: true });
    expect(JSON.parse(server.requests[0]!.body)).toEqual({
      msgtype: 'markdown',
      markdown: { content: '**P1** 磁盘将满' },
    });
  });

  it('treats HTTP 200 with errcode 93000 as a failure that is not retried', async () => {
    server = await startLoopbackServer(wecomStub);
    const { ch } = channel('wrong-key');
    const result = await ch.send(msg);
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(result.ok === false && result.error).toMatch(
      /^企业微信机器人发送失败：机器人 webhook 地址无效.*errcode 93000/,
    );
    expect(result.ok === false && result.error).not.toContain('wrong-key');
  });

  it('retries later on errcode 45009 (rate limit)', async () => {
    server = await startLoopbackServer(wecomStub);
    const { ch } = channel();
    expect(await ch.send({ ...msg, text: 'busy' })).toMatchObject({
      ok: false,
      retryable: true,
      retryAfterMs: 60_000,
    });
  });

  it('cuts text to 2048 bytes and markdown to 4096 bytes at a character boundary, with a marker', async () => {
    server = await startLoopbackServer(wecomStub);
    const { ch } = channel();
    const long = '磁盘告警😀'.repeat(400); // 3-byte Han characters and 4-byte emoji: 5,600 bytes
    expect(await ch.send({ ...msg, text: long })).toEqual({ ok: true, truncated: true });
    expect(await ch.send({ ...msg, markdown: long })).toEqual({ ok: true, truncated: true });
    const [text, markdown] = server.requests.map((r) => JSON.parse(r.body));
    const t: string = text.text.content;
    const m: string = markdown.markdown.content;
    expect(utf8Bytes(t)).toBeLessThanOrEqual(WECOM_TEXT_MAX_BYTES);
    expect(utf8Bytes(t)).toBeGreaterThan(WECOM_TEXT_MAX_BYTES - 4);
    expect(utf8Bytes(m)).toBeLessThanOrEqual(WECOM_MARKDOWN_MAX_BYTES);
    for (const s of [t, m]) {
      expect(s.endsWith(TRUNCATION_MARKER)).toBe(true);
      expect(long.startsWith(s.slice(0, -TRUNCATION_MARKER.length))).toBe(true);
      expect(s).not.toContain('\uFFFD');
      expect(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(s)).toBe(false); // no lone high surrogate
    }
  });

  it('sends 20 messages a minute and then answers retryAfterMs without calling WeCom', async () => {
    server = await startLoopbackServer(wecomStub);
    const { ch, clock } = channel();
    for (let i = 0; i < 20; i++) {
      expect(await ch.send(msg)).toEqual({ ok: true });
      clock.now += 1000;
    }
    const refused = await ch.send(msg);
    expect(refused).toMatchObject({ ok: false, retryable: true, retryAfterMs: 40_000 });
    expect(server.requests).toHaveLength(20);
    clock.now += 40_000; // the first send (at +0 s) leaves the window at +60 s
    expect(await ch.send(msg)).toEqual({ ok: true });
    expect(server.requests).toHaveLength(21);
  });

  it('reports an unreachable robot as retryable without the key in the message', async () => {
    server = await startLoopbackServer(wecomStub);
    const url = server.url;
    await server.close();
    const { deps } = testDeps({ WECOM_KEY: KEY });
    const ch = wecom.create(
      Value.Default(wecom.options, {
        endpoint: `${url}/cgi-bin/webhook/send`,
        key: { env: 'WECOM_KEY' },
      }) as Parameters<typeof wecom.create>[0],
      deps,
    );
    const result = await ch.send(msg);
    expect(result).toMatchObject({ ok: false, retryable: true });
    expect(result.ok === false && result.error).toMatch(/连接被拒绝 \/ connection refused/);
    expect(result.ok === false && result.error).not.toContain(KEY);
    server = { url, requests: [], close: async () => {} };
  });

  it('fails at creation when the key secret is missing', () => {
    const { deps } = testDeps({});
    expect(() =>
      wecom.create(
        Value.Default(wecom.options, { key: { env: 'WECOM_KEY' } }) as Parameters<typeof wecom.create>[0],
        deps,
      ),
    ).toThrow('环境变量 WECOM_KEY 未设置 / environment variable WECOM_KEY is not set');
  });
});
