import { Value } from '@sinclair/typebox/value';
import { afterEach, describe, expect, it } from 'vitest';
import { type LoopbackServer, type RecordedRequest, startLoopbackServer } from '../testing/loopback-http.js';
import { testDeps } from '../testing/test-deps.js';
import { charCount } from './shared/text-limits.js';
import { smsWebhook } from './sms-webhook.js';

const TOKEN = 'gw-token-0123456789';

/** A typical provincial gateway: bearer token, JSON body, HTTP 200 with {code, msg, data}. */
function gatewayStub(req: RecordedRequest) {
  if (req.headers.authorization !== `Bearer ${TOKEN}`)
    return { status: 401, json: { code: 401, msg: 'unauthorized' } };
  if (req.method === 'GET')
    return { json: { code: 0, msg: 'ok', data: { msgId: `g-${req.url.searchParams.get('m')}` } } };
  const body = JSON.parse(req.body) as { mobiles: string; content: string };
  if (body.content.includes('quota')) return { json: { code: 1003, msg: '余额不足' } };
  if (body.content.includes('down')) return { status: 503, text: 'upstream unavailable' };
  return { json: { code: 0, msg: 'ok', data: { msgId: 'M20260511001' } } };
}

let server: LoopbackServer;
afterEach(async () => server?.close());

async function setup(options: Record<string, unknown> = {}) {
  // A header secret holds the whole header value.
  const { deps } = testDeps({ GW_TOKEN: `Bearer ${TOKEN}` });
  server = await startLoopbackServer(gatewayStub);
  const full = Value.Default(smsWebhook.options, {
    url: `${server.url}/api/sms/send`,
    headers: { Authorization: { env: 'GW_TOKEN' } },
    body: '{"mobiles": "{{to}}", "content": "{{text}}", "ticket": "{{param.ticket}}"}',
    success: { jsonPath: 'code', equals: 0 },
    messageIdPath: 'data.msgId',
    signature: '【信用某市】',
    ...options,
  }) as Parameters<typeof smsWebhook.create>[0];
  return smsWebhook.create(full, deps);
}

const msg = { to: ['13800000000', '13900000000'], subject: '告警', text: '数据库 "db01" 不可用\n请处理' };

describe('sms-webhook', () => {
  it('fills the body template with JSON-escaped values and judges success by the JSON path', async () => {
    const ch = await setup();
    expect(await ch.send({ ...msg, templateParams: { ticket: 'FLT-0042' } })).toEqual({
      ok: true,
      parts: 1,
      providerMessageId: 'M20260511001',
    });
    const req = server.requests[0]!;
    expect(req.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(req.body)).toEqual({
      mobiles: '13800000000,13900000000',
      content: msg.text,
      ticket: 'FLT-0042',
    });
  });

  it('fails on HTTP 200 when the JSON value says so, not retryable', async () => {
    const ch = await setup();
    const result = await ch.send({ ...msg, text: 'quota' });
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(result.ok === false && result.error).toContain('HTTP 200 code=1003');
  });

  it('retries on 5xx', async () => {
    const ch = await setup();
    expect(await ch.send({ ...msg, text: 'down' })).toMatchObject({ ok: false, retryable: true });
  });

  it('reports a wrong token by status', async () => {
    const { deps } = testDeps({ GW_TOKEN: 'wrong' });
    server = await startLoopbackServer(gatewayStub);
    const ch = smsWebhook.create(
      Value.Default(smsWebhook.options, {
        url: `${server.url}/api/sms/send`,
        headers: { Authorization: { env: 'GW_TOKEN' } },
        body: '{"mobiles": "{{to}}", "content": "{{text}}"}',
      }) as Parameters<typeof smsWebhook.create>[0],
      deps,
    );
    expect(await ch.send(msg)).toMatchObject({ ok: false, retryable: false });
  });

  it('sends GET with percent-encoded query placeholders', async () => {
    const ch = await setup({
      method: 'GET',
      body: undefined,
      query: { m: '{{to}}', c: '{{text}}' },
      headers: { Authorization: `Bearer ${TOKEN}` },
    });
    expect(await ch.send({ ...msg, to: ['13800000000'] })).toMatchObject({
      ok: true,
      providerMessageId: 'g-13800000000',
    });
    expect(server.requests[0]!.url.searchParams.get('c')).toBe(msg.text);
  });

  it('shortens text to 500 characters with the signature and counts parts', async () => {
    const ch = await setup();
    const result = await ch.send({ ...msg, text: '长'.repeat(700) });
    expect(result).toMatchObject({ ok: true, parts: 8, truncated: true });
    const content = JSON.parse(server.requests[0]!.body).content as string;
    expect(charCount('【信用某市】') + charCount(content)).toBe(500);
  });

  it('rejects jsonPath without equals at creation', () => {
    const { deps } = testDeps({});
    expect(() =>
      smsWebhook.create(
        Value.Default(smsWebhook.options, {
          url: 'http://127.0.0.1:9/',
          success: { jsonPath: 'code' },
        }) as Parameters<typeof smsWebhook.create>[0],
        deps,
      ),
    ).toThrow(/jsonPath needs equals/);
  });
});
