import { createHash, createHmac } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import { afterEach, describe, expect, it } from 'vitest';
import { type LoopbackServer, type RecordedRequest, startLoopbackServer } from '../testing/loopback-http.js';
import { testDeps } from '../testing/test-deps.js';
import { tc3Authorization, tencentSms } from './tencent-sms.js';

const SECRET_ID = 'AKIDExampleSecretId000000000000000';
const SECRET_KEY = 'ExampleSecretKey00000000000000000';
const REQUEST_ID = 'a0aabda6-cf91-4f3e-a81f-9198114a2279';

const tencentError = (code: string, message: string) => ({
  json: { Response: { Error: { Code: code, Message: message }, RequestId: REQUEST_ID } },
});

/** The per-number outcomes the stub plays. */
const BLACKLISTED = '+8613700000000';
const THROTTLED = '+8613600000000';

/** SMS API 3.0 as it checks a request: common headers, TC3 signature recomputed from the key, parameters. */
function tencentStub(clock: { now: number }) {
  return (req: RecordedRequest) => {
    const h = req.headers;
    if (h['x-tc-action'] !== 'SendSms') return tencentError('InvalidAction', 'action missing or unknown');
    if (h['x-tc-version'] !== '2021-01-11')
      return tencentError('NoSuchVersion', 'version missing or unknown');
    if (!h['x-tc-region'])
      return tencentError('MissingParameter', 'The request is missing a required parameter `Region`.');
    const timestamp = Number(h['x-tc-timestamp']);
    if (!Number.isInteger(timestamp) || Math.abs(timestamp * 1000 - clock.now) > 300_000) {
      return tencentError(
        'AuthFailure.SignatureExpire',
        'Signature expired. Timestamp and server time cannot differ by more than five minutes.',
      );
    }
    const auth =
      /^TC3-HMAC-SHA256 Credential=([^/]+)\/(\d{4}-\d{2}-\d{2})\/sms\/tc3_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
        String(h.authorization),
      );
    if (!auth) return tencentError('AuthFailure.InvalidAuthorization', 'Authorization header format error.');
    const [, id, date, signedHeaders, signature] = auth;
    if (id !== SECRET_ID)
      return tencentError(
        'AuthFailure.SecretIdNotFound',
        'The SecretId is not found, please ensure that your SecretId is correct.',
      );
    if (date !== new Date(timestamp * 1000).toISOString().slice(0, 10))
      return tencentError('AuthFailure.InvalidAuthorization', 'credential date');
    const names = signedHeaders!.split(';');
    if (!names.includes('content-type') || !names.includes('host'))
      return tencentError('AuthFailure.InvalidAuthorization', 'signed headers');
    const hex = (s: string) => createHash('sha256').update(s).digest('hex');
    const canonicalHeaders = names.map((n) => `${n}:${String(h[n]).trim().toLowerCase()}\n`).join('');
    const canonicalRequest = `POST\n/\n\n${canonicalHeaders}\n${signedHeaders}\n${hex(req.body)}`;
    const toSign = `TC3-HMAC-SHA256\n${timestamp}\n${date}/sms/tc3_request\n${hex(canonicalRequest)}`;
    const mac = (k: string | Buffer, s: string) => createHmac('sha256', k).update(s).digest();
    const key = mac(mac(mac(`TC3${SECRET_KEY}`, date!), 'sms'), 'tc3_request');
    if (createHmac('sha256', key).update(toSign).digest('hex') !== signature) {
      return tencentError(
        'AuthFailure.SignatureFailure',
        'The provided credentials could not be validated. Please check your signature is correct.',
      );
    }
    const body = JSON.parse(req.body) as Record<string, unknown>;
    for (const name of ['PhoneNumberSet', 'SmsSdkAppId', 'TemplateId']) {
      if (body[name] === undefined)
        return tencentError('MissingParameter', `The request is missing a required parameter \`${name}\`.`);
    }
    const status = (body.PhoneNumberSet as string[]).map((phone, i) => {
      const base = {
        SerialNo: `5000:10457106691570536578494996${i}`,
        PhoneNumber: phone,
        Fee: 1,
        SessionContext: '',
        IsoCode: 'CN',
      };
      if (phone === BLACKLISTED)
        return {
          ...base,
          Fee: 0,
          Code: 'FailedOperation.PhoneNumberInBlacklist',
          Message: 'phone number in blacklist',
        };
      if (phone === THROTTLED)
        return {
          ...base,
          Fee: 0,
          Code: 'LimitExceeded.PhoneNumberThirtySecondLimit',
          Message:
            'the number of sms messages sent from a single mobile number within 30 seconds exceeds the upper limit',
        };
      return { ...base, Code: 'Ok', Message: 'send success' };
    });
    return { json: { Response: { SendStatusSet: status, RequestId: REQUEST_ID } } };
  };
}

let server: LoopbackServer;
afterEach(async () => server?.close());

async function setup(opts: { key?: string; options?: Record<string, unknown> } = {}) {
  const { deps, clock } = testDeps({ TC_ID: SECRET_ID, TC_KEY: opts.key ?? SECRET_KEY });
  server = await startLoopbackServer(tencentStub(clock));
  const options = Value.Default(tencentSms.options, {
    endpoint: `${server.url}/`,
    secretId: { env: 'TC_ID' },
    secretKey: { env: 'TC_KEY' },
    smsSdkAppId: '1400006666',
    signName: '信用某市',
    templateId: '1110',
    ...opts.options,
  }) as Parameters<typeof tencentSms.create>[0];
  return { ch: tencentSms.create(options, deps), clock };
}

const msg = { to: ['13800000000', '+8613900000000'], subject: '', text: 'db01 磁盘剩余 3%' };

describe('tencent-sms', () => {
  it('computes the signature of the example in Tencent Cloud signature v3 documentation', () => {
    const auth = tc3Authorization({
      secretId: 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE',
      secretKey: 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE',
      service: 'cvm',
      host: 'cvm.tencentcloudapi.com',
      action: 'DescribeInstances',
      timestamp: 1551113065,
      payload: '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}',
      contentType: 'application/json; charset=utf-8',
      signedHeaders: ['content-type', 'host'],
    });
    expect(auth).toBe(
      'TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, ' +
        'SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168',
    );
  });

  it('is accepted by a server that recomputes TC3-HMAC-SHA256, every number "Ok"', async () => {
    const { ch } = await setup();
    expect(await ch.send(msg)).toEqual({
      ok: true,
      parts: 1,
      providerMessageId: '5000:104571066915705365784949960,5000:104571066915705365784949961',
    });
    expect(JSON.parse(server.requests[0]!.body)).toEqual({
      PhoneNumberSet: ['+8613800000000', '+8613900000000'],
      SmsSdkAppId: '1400006666',
      SignName: '信用某市',
      TemplateId: '1110',
      TemplateParamSet: ['db01 磁盘剩余 3%'],
    });
  });

  it('reports a wrong SecretKey as AuthFailure.SignatureFailure, not retryable', async () => {
    const { ch } = await setup({ key: 'wrong-key' });
    const result = await ch.send(msg);
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(result.ok === false && result.error).toMatch(
      /^腾讯云短信发送失败：SecretId\/SecretKey 不正确.*AuthFailure\.SignatureFailure/,
    );
  });

  it('reports a per-number FailedOperation with only that number to retry', async () => {
    const { ch } = await setup();
    const result = await ch.send({ ...msg, to: ['13800000000', '13700000000'] });
    expect(result).toMatchObject({ ok: false, retryable: false, failedRecipients: ['13700000000'] });
    expect(result.ok === false && result.error).toContain(
      '13700000000 FailedOperation.PhoneNumberInBlacklist phone number in blacklist',
    );
  });

  it('treats a per-number LimitExceeded as retryable', async () => {
    const { ch } = await setup();
    expect(await ch.send({ ...msg, to: ['13600000000'] })).toMatchObject({
      ok: false,
      retryable: true,
      failedRecipients: ['13600000000'],
    });
  });

  it('fills {1}, {2} in the order of paramNames and counts the template text', async () => {
    const { ch } = await setup({
      options: { paramNames: ['ticket', 'summary'], templateText: '工单{1}：{2}，请处理。' },
    });
    const result = await ch.send({
      ...msg,
      templateParams: { ticket: 'FLT-0042', summary: '长'.repeat(100) },
    });
    // 【信用某市】 6 + 工单 2 + FLT-0042 8 + ： 1 + 100 + ，请处理。 5 = 122 → 2 parts.
    expect(result).toMatchObject({ ok: true, parts: 2 });
    expect(JSON.parse(server.requests[0]!.body).TemplateParamSet).toEqual(['FLT-0042', '长'.repeat(100)]);
  });
});
