/**
 * Tencent Cloud (腾讯云) SMS: SendSms of API version 2021-01-11, signed with TC3-HMAC-SHA256:
 *
 *   CanonicalRequest = POST \n / \n \n content-type:…\nhost:…\nx-tc-action:sendsms\n \n
 *                      content-type;host;x-tc-action \n hex(sha256(body))
 *   StringToSign     = TC3-HMAC-SHA256 \n timestamp \n date/sms/tc3_request \n hex(sha256(CanonicalRequest))
 *   key              = HMAC(HMAC(HMAC("TC3" + SecretKey, date), "sms"), "tc3_request")
 *   Authorization    = TC3-HMAC-SHA256 Credential=SecretId/date/sms/tc3_request,
 *                      SignedHeaders=content-type;host;x-tc-action, Signature=hex(HMAC(key, StringToSign))
 *
 * (date is the UTC date of the timestamp). The answer carries one status per number in
 * `Response.SendStatusSet`; a number succeeded only with `Code: "Ok"`. A request-level error is
 * `Response.Error {Code, Message}`. Like Aliyun, not idempotent: the caller must dedupe.
 */
import { createHash, createHmac } from 'node:crypto';
import { type Static, Type } from '@sinclair/typebox';
import { callProvider, unexpectedReply, unreachable } from './shared/provider-http.js';
import { rateLimited, SlidingWindow } from './shared/rate-window.js';
import { resolveSecret } from './shared/secrets.js';
import { MAINLAND_MOBILE, smsCommonOptions } from './shared/sms-options.js';
import { prepareSmsParams } from './shared/sms-text.js';
import { type ChannelDescriptor, type DeliveryResult, SecretRef } from './types.js';

export const TencentSmsOptions = Type.Object(
  {
    /** @defaultValue "https://sms.tencentcloudapi.com/" */
    endpoint: Type.String({ default: 'https://sms.tencentcloudapi.com/', pattern: '^https?://' }),
    secretId: SecretRef,
    secretKey: SecretRef,
    /** @defaultValue "ap-guangzhou" */
    region: Type.String({ default: 'ap-guangzhou', minLength: 1 }),
    /** The SMS application's SdkAppId. @example "1400006666" */
    smsSdkAppId: Type.String({ pattern: '^[0-9]+$' }),
    /** The approved signature, without 【】. */
    signName: Type.String({ minLength: 1, maxLength: 64 }),
    /** The approved template id. */
    templateId: Type.String({ pattern: '^[0-9]+$' }),
    /**
     * Which `templateParams` fill the template's {1}, {2}, … in order; the message text fills a
     * name missing from `templateParams`. @defaultValue ["content"]
     */
    paramNames: Type.Array(Type.String({ pattern: '^[A-Za-z0-9_]+$' }), {
      default: ['content'],
      minItems: 0,
    }),
    /** The approved template text with {1}, {2}…, to count the characters as sent. */
    templateText: Type.Optional(Type.String({ minLength: 1 })),
    /** Longest value of one variable, if the template kind limits it. */
    maxParamChars: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
    ...smsCommonOptions,
  },
  { additionalProperties: false },
);
export type TencentSmsOptions = Static<typeof TencentSmsOptions>;

const SERVICE = 'sms';
const ACTION = 'SendSms';
const VERSION = '2021-01-11';

const sha256hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');

export interface Tc3Request {
  secretId: string;
  secretKey: string;
  service: string;
  host: string;
  action: string;
  /** Unix seconds. */
  timestamp: number;
  payload: string;
  contentType: string;
  /** @defaultValue ['content-type', 'host', 'x-tc-action'] */
  signedHeaders?: string[];
}

/** The `Authorization` header of TC3-HMAC-SHA256. */
export function tc3Authorization(r: Tc3Request): string {
  const signed = r.signedHeaders ?? ['content-type', 'host', 'x-tc-action'];
  const values: Record<string, string> = {
    'content-type': r.contentType,
    host: r.host,
    'x-tc-action': r.action.toLowerCase(),
  };
  const canonicalHeaders = signed.map((h) => `${h}:${values[h]}\n`).join('');
  const canonicalRequest = ['POST', '/', '', canonicalHeaders, signed.join(';'), sha256hex(r.payload)].join(
    '\n',
  );
  const date = new Date(r.timestamp * 1000).toISOString().slice(0, 10);
  const scope = `${date}/${r.service}/tc3_request`;
  const stringToSign = ['TC3-HMAC-SHA256', String(r.timestamp), scope, sha256hex(canonicalRequest)].join(
    '\n',
  );
  const hmac = (key: string | Buffer, data: string) =>
    createHmac('sha256', key).update(data, 'utf8').digest();
  const key = hmac(hmac(hmac(`TC3${r.secretKey}`, date), r.service), 'tc3_request');
  const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
  return `TC3-HMAC-SHA256 Credential=${r.secretId}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${signature}`;
}

/** E.164 as Tencent wants it: +86 for mainland numbers given without a country code. */
function e164(number: string): string {
  if (number.startsWith('+')) return number;
  if (number.startsWith('0086')) return `+${number.slice(2)}`;
  if (/^861\d{10}$/.test(number)) return `+${number}`;
  return `+86${number}`;
}

function retryableCode(code: string): boolean {
  return (
    code.startsWith('LimitExceeded') || code.startsWith('InternalError') || code === 'RequestLimitExceeded'
  );
}

interface SendStatus {
  PhoneNumber?: string;
  SerialNo?: string;
  Code?: string;
  Message?: string;
}

export const tencentSms: ChannelDescriptor<typeof TencentSmsOptions> = {
  kind: 'tencent-sms',
  title: '腾讯云短信',
  options: TencentSmsOptions,
  limits: { maxChars: 500 },
  create(options, deps) {
    const env = deps.env ?? process.env;
    const secretId = resolveSecret(options.secretId, env, 'tencent-sms.secretId');
    const secretKey = resolveSecret(options.secretKey, env, 'tencent-sms.secretKey');
    const fetchFn = deps.fetch ?? globalThis.fetch;
    const now = deps.now ?? Date.now;
    const window = options.perMinute ? new SlidingWindow(options.perMinute) : undefined;
    const endpoint = new URL(options.endpoint);
    const templateText = options.templateText;
    return {
      kind: 'tencent-sms',
      async send(message): Promise<DeliveryResult> {
        const bad = message.to.filter((n) => !MAINLAND_MOBILE.test(n) && !/^\+\d{6,15}$/.test(n));
        if (message.to.length === 0 || bad.length > 0) {
          return {
            ok: false,
            retryable: false,
            error: `收件号码无效 / invalid mobile numbers: ${bad.join(', ') || '(none given)'}`,
            ...(bad.length > 0 ? { failedRecipients: bad } : {}),
          };
        }
        const source = message.templateParams ?? {};
        const named = Object.fromEntries(options.paramNames.map((n) => [n, source[n] ?? message.text]));
        const prepared = prepareSmsParams(named, {
          links: options.links,
          maxChars: options.maxChars,
          signature: `【${options.signName}】`,
          ...(options.maxParamChars ? { maxParamChars: options.maxParamChars } : {}),
          ...(templateText
            ? {
                render: (p: Record<string, string>) =>
                  templateText.replace(
                    /\{(\d+)\}/g,
                    (w, i: string) => p[options.paramNames[Number(i) - 1] ?? ''] ?? w,
                  ),
              }
            : {}),
        });
        if (!prepared.ok) return { ok: false, retryable: false, error: prepared.error };
        if (window) {
          const slot = window.tryAcquire(now());
          if (!slot.ok) return rateLimited('腾讯云短信 / Tencent SMS', options.perMinute!, slot.retryAfterMs);
        }
        const numbers = message.to.map(e164);
        const payload = JSON.stringify({
          PhoneNumberSet: numbers,
          SmsSdkAppId: options.smsSdkAppId,
          SignName: options.signName,
          TemplateId: options.templateId,
          TemplateParamSet: options.paramNames.map((n) => prepared.params[n] ?? ''),
        });
        const timestamp = Math.floor(now() / 1000);
        const contentType = 'application/json; charset=utf-8';
        const authorization = tc3Authorization({
          secretId,
          secretKey,
          service: SERVICE,
          host: endpoint.host,
          action: ACTION,
          timestamp,
          payload,
          contentType,
        });
        const reply = await callProvider(
          fetchFn,
          endpoint,
          {
            method: 'POST',
            headers: {
              authorization,
              'content-type': contentType,
              'x-tc-action': ACTION,
              'x-tc-timestamp': String(timestamp),
              'x-tc-version': VERSION,
              'x-tc-region': options.region,
            },
            body: payload,
          },
          options.timeoutMs,
        );
        if (reply.kind === 'unreachable') return unreachable('腾讯云短信 / Tencent SMS', reply);
        const response = (
          reply.json as {
            Response?: { Error?: { Code?: string; Message?: string }; SendStatusSet?: SendStatus[] };
          }
        )?.Response;
        if (response?.Error?.Code) {
          const { Code, Message } = response.Error;
          deps.log.warn({ channel: 'tencent-sms', code: Code }, 'tencent sms request refused');
          const zh = Code.startsWith('AuthFailure')
            ? 'SecretId/SecretKey 不正确或签名校验失败'
            : retryableCode(Code)
              ? '腾讯云繁忙或限流'
              : '腾讯云拒绝请求';
          return {
            ok: false,
            retryable: retryableCode(Code),
            error: `腾讯云短信发送失败：${zh} / Tencent SMS refused the request: ${Code} ${Message ?? ''}`,
          };
        }
        if (!Array.isArray(response?.SendStatusSet))
          return unexpectedReply('腾讯云短信 / Tencent SMS', reply, now());
        const byNumber = new Map(response.SendStatusSet.map((s) => [s.PhoneNumber, s]));
        const failed: { given: string; status: SendStatus | undefined }[] = [];
        const serials: string[] = [];
        message.to.forEach((given, i) => {
          const status = byNumber.get(numbers[i]);
          if (status?.Code === 'Ok') serials.push(status.SerialNo ?? '');
          else failed.push({ given, status });
        });
        if (failed.length === 0) {
          deps.log.debug(
            { channel: 'tencent-sms', recipients: numbers.length, parts: prepared.parts },
            'tencent sms accepted',
          );
          return {
            ok: true,
            parts: prepared.parts,
            providerMessageId: serials.join(','),
            ...(prepared.truncated ? { truncated: true } : {}),
          };
        }
        deps.log.warn(
          {
            channel: 'tencent-sms',
            failed: failed.length,
            codes: failed.map((f) => f.status?.Code ?? 'missing'),
          },
          'tencent sms refused for some numbers',
        );
        return {
          ok: false,
          retryable: failed.every((f) => f.status?.Code !== undefined && retryableCode(f.status.Code)),
          error:
            `腾讯云短信未能发送到 ${failed.length}/${numbers.length} 个号码 / Tencent SMS refused ${failed.length} of ${numbers.length} numbers: ` +
            failed
              .map((f) => `${f.given} ${f.status?.Code ?? '(no status)'} ${f.status?.Message ?? ''}`.trim())
              .join('; '),
          failedRecipients: failed.map((f) => f.given),
        };
      },
    };
  },
};
