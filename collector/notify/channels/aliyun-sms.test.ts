import { createHmac } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import { afterEach, describe, expect, it } from 'vitest';
import { type LoopbackServer, type RecordedRequest, startLoopbackServer } from '../testing/loopback-http.js';
import { testDeps } from '../testing/test-deps.js';
import { aliyunRpcSignature, aliyunSms } from './aliyun-sms.js';
import { charCount } from './shared/text-limits.js';

const KEY_ID = 'LTAI5tExampleKeyId00001';
const KEY_SECRET = 'ExampleAccessKeySecret0000000001';
const REQUEST_ID = 'F655A8D5-B967-440B-8683-DAD6FF8DE990';

/** Percent-encoding written from Aliyun's table, separately from the channel's. */
function rfc3986(s: string): string {
  return Array.from(new TextEncoder().encode(s))
    .map((b) => {
      const c = String.fromCharCode(b);
      return /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

const aliyunError = (status: number, code: string, message: string) => ({
  status,
  json: {
    RequestId: REQUEST_ID,
    HostId: 'dysmsapi.aliyuncs.com',
    Code: code,
    Message: message,
    Recommend: `https://api.aliyun.com/troubleshoot?q=${code}&product=Dysmsapi`,
  },
});

/** Dysmsapi as it checks a request: required parameters, timestamp, nonce, signature. */
function aliyunStub(clock: { now: number }, answers: { limit?: string } = {}) {
  const nonces = new Set<string>();
  return (req: RecordedRequest) => {
    if (
      req.method !== 'POST' ||
      !/^application\/x-www-form-urlencoded/.test(String(req.headers['content-type']))
    ) {
      return aliyunError(400, 'InvalidParameter', 'form POST expected');
    }
    const params = Object.fromEntries(new URLSearchParams(req.body));
    for (const name of [
      'AccessKeyId',
      'Action',
      'SignatureMethod',
      'SignatureNonce',
      'SignatureVersion',
      'Timestamp',
      'Version',
      'Signature',
      'PhoneNumbers',
      'SignName',
      'TemplateCode',
    ]) {
      if (!params[name]) return aliyunError(400, `Missing${name}`, `${name} is mandatory for this action.`);
    }
    if (params.Action !== 'SendSms' || params.Version !== '2017-05-25')
      return aliyunError(
        404,
        'InvalidAction.NotFound',
        'Specified api is not found, please check your url and method.',
      );
    if (params.AccessKeyId !== KEY_ID)
      return aliyunError(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
    if (params.SignatureMethod !== 'HMAC-SHA1' || params.SignatureVersion !== '1.0')
      return aliyunError(400, 'InvalidParameter', 'signature method');
    const ts = params.Timestamp!;
    if (
      !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(ts) ||
      Math.abs(Date.parse(ts) - clock.now) > 15 * 60_000
    ) {
      return aliyunError(400, 'InvalidTimeStamp.Expired', `Specified time stamp or date value is expired.`);
    }
    if (nonces.has(params.SignatureNonce!))
      return aliyunError(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.');
    nonces.add(params.SignatureNonce!);
    const { Signature, ...signed } = params;
    const canonical = Object.keys(signed)
      .sort()
      .map((k) => `${rfc3986(k)}=${rfc3986(signed[k]!)}`)
      .join('&');
    const stringToSign = `POST&%2F&${rfc3986(canonical)}`;
    const expected = createHmac('sha1', `${KEY_SECRET}&`).update(stringToSign).digest('base64');
    if (Signature !== expected) {
      return aliyunError(
        400,
        'SignatureDoesNotMatch',
        `Specified signature is not matched with our calculation. server string to sign is:${stringToSign}`,
      );
    }
    const templateParam = JSON.parse(params.TemplateParam ?? '{}') as Record<string, unknown>;
    if (Object.values(templateParam).some((v) => typeof v !== 'string')) {
      return {
        json: {
          RequestId: REQUEST_ID,
          Code: 'isv.INVALID_JSON_PARAM',
          Message: 'JSON参数不合法，只接受字符串值',
        },
      };
    }
    if (answers.limit)
      return { json: { Message: answers.limit, RequestId: REQUEST_ID, Code: 'isv.BUSINESS_LIMIT_CONTROL' } };
    return { json: { Message: 'OK', RequestId: REQUEST_ID, Code: 'OK', BizId: '900619746936498440^0' } };
  };
}

let server: LoopbackServer;
afterEach(async () => server?.close());

async function setup(opts: { secret?: string; limit?: string; options?: Record<string, unknown> } = {}) {
  const { deps, clock } = testDeps({ ALI_ID: KEY_ID, ALI_SECRET: opts.secret ?? KEY_SECRET });
  server = await startLoopbackServer(aliyunStub(clock, opts.limit ? { limit: opts.limit } : {}));
  const options = Value.Default(aliyunSms.options, {
    endpoint: `${server.url}/`,
    accessKeyId: { env: 'ALI_ID' },
    accessKeySecret: { env: 'ALI_SECRET' },
    signName: '信用某市',
    templateCode: 'SMS_123456789',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Aliyun templates write variables as ${name}
    templateText: '运维告警：${content}，请及时处理。',
    ...opts.options,
  }) as Parameters<typeof aliyunSms.create>[0];
  return { ch: aliyunSms.create(options, deps), clock };
}

const sent = (i = 0) => Object.fromEntries(new URLSearchParams(server.requests[i]!.body));
const msg = { to: ['+8613800000000', '13900000000'], subject: '', text: 'db01 磁盘剩余 3%' };

describe('aliyun-sms', () => {
  it('computes the signature of the example in Aliyun signature documentation', () => {
    const params = {
      Timestamp: '2016-02-23T12:46:24Z',
      Format: 'XML',
      AccessKeyId: 'testid',
      Action: 'DescribeRegions',
      SignatureMethod: 'HMAC-SHA1',
      SignatureNonce: '3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf',
      Version: '2014-05-26',
      SignatureVersion: '1.0',
    };
    expect(aliyunRpcSignature('GET', params, 'testsecret')).toBe('OLeaidS1JvxuMvnyHOwuJ+uX5qY=');
  });

  it('is accepted by a server that recomputes the signature, and reports BizId and parts', async () => {
    const { ch } = await setup();
    expect(await ch.send(msg)).toEqual({ ok: true, providerMessageId: '900619746936498440^0', parts: 1 });
    expect(sent()).toMatchObject({
      PhoneNumbers: '13800000000,13900000000',
      SignName: '信用某市',
      TemplateCode: 'SMS_123456789',
      TemplateParam: JSON.stringify({ content: 'db01 磁盘剩余 3%' }),
      RegionId: 'cn-hangzhou',
      Format: 'JSON',
    });
  });

  it('reports a wrong AccessKey secret clearly, not retryable', async () => {
    const { ch } = await setup({ secret: 'not-the-secret' });
    const result = await ch.send(msg);
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(result.ok === false && result.error).toMatch(
      /^阿里云短信发送失败：AccessKey Secret 不正确（签名不匹配） \/ Aliyun SMS refused: SignatureDoesNotMatch/,
    );
    expect(result.ok === false && result.error).not.toContain('not-the-secret');
  });

  it('treats isv.BUSINESS_LIMIT_CONTROL (HTTP 200) as a retryable failure, waiting by its period', async () => {
    let { ch } = await setup({ limit: '触发分钟级流控Permits:1' });
    expect(await ch.send(msg)).toMatchObject({ ok: false, retryable: true, retryAfterMs: 60_000 });
    await server.close();
    ({ ch } = await setup({ limit: '触发小时级流控Permits:5' }));
    const result = await ch.send(msg);
    expect(result).toMatchObject({ ok: false, retryable: true, retryAfterMs: 3_600_000 });
    expect(result.ok === false && result.error).toContain(
      'isv.BUSINESS_LIMIT_CONTROL 触发小时级流控Permits:5',
    );
  });

  it('cuts a variable to the template limit (35 characters by default)', async () => {
    const { ch } = await setup();
    const result = await ch.send({ ...msg, text: '数'.repeat(100) });
    expect(result).toEqual({
      ok: true,
      providerMessageId: '900619746936498440^0',
      parts: 1,
      truncated: true,
    });
    const content = (JSON.parse(sent().TemplateParam!) as { content: string }).content;
    expect(charCount(content)).toBe(35);
    expect(content.endsWith('…')).toBe(true);
  });

  it('keeps the whole SMS within 500 characters and counts parts per 67', async () => {
    const { ch } = await setup({ options: { maxParamChars: 500 } });
    const result = await ch.send({ ...msg, text: '长'.repeat(600) });
    // 【信用某市】 (6) + the template's fixed text (12) + content = 500 → 8 parts of 67.
    expect(result).toEqual({
      ok: true,
      providerMessageId: '900619746936498440^0',
      parts: 8,
      truncated: true,
    });
    const content = (JSON.parse(sent().TemplateParam!) as { content: string }).content;
    expect(6 + 12 + charCount(content)).toBe(500);
    await server.close();
    const { ch: short } = await setup({ options: { maxParamChars: 500 } });
    // 71 characters in all: two parts.
    expect(await short.send({ ...msg, text: '短'.repeat(71 - 18) })).toMatchObject({ ok: true, parts: 2 });
  });

  it('strips links from variables by default, or refuses without calling Aliyun', async () => {
    const { ch } = await setup();
    const text = '详情见 https://ops.example.gov.cn/t/42 或 www.example.com';
    expect(await ch.send({ ...msg, text })).toMatchObject({ ok: true });
    expect(JSON.parse(sent().TemplateParam!)).toEqual({ content: '详情见 或' });
    await server.close();
    const { ch: strict } = await setup({ options: { links: 'refuse' } });
    const refused = await strict.send({ ...msg, text });
    expect(refused).toMatchObject({ ok: false, retryable: false });
    expect(refused.ok === false && refused.error).toMatch(/^短信模板变量 content 含有链接/);
    expect(server.requests).toHaveLength(0);
  });

  it('passes templateParams as given', async () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Aliyun templates write variables as ${name}
    const { ch } = await setup({ options: { templateText: '工单${ticket}：${summary}' } });
    await ch.send({ ...msg, templateParams: { ticket: 'FLT-0042', summary: '磁盘将满' } });
    expect(JSON.parse(sent().TemplateParam!)).toEqual({ ticket: 'FLT-0042', summary: '磁盘将满' });
  });

  it('refuses malformed numbers before sending', async () => {
    const { ch } = await setup();
    expect(await ch.send({ ...msg, to: ['12345'] })).toMatchObject({
      ok: false,
      retryable: false,
      failedRecipients: ['12345'],
    });
    expect(server.requests).toHaveLength(0);
  });

  it('keeps to its own per-minute limit when configured', async () => {
    const { ch, clock } = await setup({ options: { perMinute: 2 } });
    expect(await ch.send(msg)).toMatchObject({ ok: true });
    expect(await ch.send(msg)).toMatchObject({ ok: true });
    expect(await ch.send(msg)).toMatchObject({ ok: false, retryable: true, retryAfterMs: 60_000 });
    clock.now += 60_000;
    expect(await ch.send(msg)).toMatchObject({ ok: true });
    expect(server.requests).toHaveLength(3);
  });
});
