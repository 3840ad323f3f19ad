/**
 * Aliyun (阿里云) SMS: SendSms of Dysmsapi 2017-05-25, an RPC-style API signed with Aliyun's
 * signature version 1.0 (HMAC-SHA1, the "V2 RPC" mechanism of Aliyun's SDK documentation):
 *
 *   CanonicalizedQuery = sorted params (Signature excluded), each name=value percent-encoded
 *     (RFC 3986: only A–Z a–z 0–9 - _ . ~ left as is, space as %20), joined by '&'
 *   StringToSign       = METHOD '&' percentEncode('/') '&' percentEncode(CanonicalizedQuery)
 *   Signature          = base64(HMAC-SHA1(key = AccessKeySecret + '&', StringToSign))
 *
 * sent as a POST form. Success is only `Code: "OK"` in the body (BizId is the message id); an
 * error comes with the same shape (`Code`, `Message`, `RequestId`) and often HTTP 200.
 *
 * Not idempotent: Aliyun sends every accepted request. The caller (the outbox) must dedupe, and
 * must not resend a message whose outcome is unknown (a timeout after sending) without
 * accepting a possible duplicate.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { type Static, Type } from '@sinclair/typebox';
import { callProvider, unexpectedReply, unreachable } from './shared/provider-http.js';
import { rateLimited, SlidingWindow } from './shared/rate-window.js';
import { resolveSecret } from './shared/secrets.js';
import { MAINLAND_MOBILE, smsCommonOptions } from './shared/sms-options.js';
import { prepareSmsParams, renderDollarTemplate } from './shared/sms-text.js';
import { type ChannelDescriptor, type DeliveryResult, SecretRef } from './types.js';

export const AliyunSmsOptions = Type.Object(
  {
    /** @defaultValue "https://dysmsapi.aliyuncs.com/" */
    endpoint: Type.String({ default: 'https://dysmsapi.aliyuncs.com/', pattern: '^https?://' }),
    accessKeyId: SecretRef,
    accessKeySecret: SecretRef,
    /** @defaultValue "cn-hangzhou" */
    regionId: Type.String({ default: 'cn-hangzhou', minLength: 1 }),
    /** The approved signature name, without 【】. @example "信用某市" */
    signName: Type.String({ minLength: 1, maxLength: 64 }),
    /** The approved template code. @example "SMS_123456789" */
    templateCode: Type.String({ pattern: '^SMS_[0-9]+$' }),
    /**
     * The approved template text with `${name}` variables, to count the characters of the SMS
     * as sent (parts, the 500 limit). Without it only the variables are counted.
     * @example "运维告警：${content}，请及时处理。"
     */
    templateText: Type.Optional(Type.String({ minLength: 1 })),
    /**
     * The template variable that carries the message text when a message has no
     * `templateParams`. @defaultValue "content"
     */
    textParam: Type.String({ default: 'content', pattern: '^[A-Za-z0-9_]+$' }),
    /**
     * Longest value of one variable; Aliyun limits variables of notification templates (35
     * characters for most kinds). @defaultValue 35
     */
    maxParamChars: Type.Integer({ default: 35, minimum: 1, maximum: 500 }),
    ...smsCommonOptions,
  },
  { additionalProperties: false },
);
export type AliyunSmsOptions = Static<typeof AliyunSmsOptions>;

/** RFC 3986 percent-encoding as Aliyun's signature wants it. */
export function aliyunPercentEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The v1.0 RPC signature of a parameter set (which must not contain `Signature`). */
export function aliyunRpcSignature(
  method: 'GET' | 'POST',
  params: Record<string, string>,
  secret: string,
): string {
  const canonical = Object.keys(params)
    .sort()
    .map((k) => `${aliyunPercentEncode(k)}=${aliyunPercentEncode(params[k]!)}`)
    .join('&');
  const stringToSign = `${method}&${aliyunPercentEncode('/')}&${aliyunPercentEncode(canonical)}`;
  return createHmac('sha1', `${secret}&`).update(stringToSign, 'utf8').digest('base64');
}

/** Codes with their own words; `retryAfterMs` for flow control depends on its period. */
function describeAliyunCode(
  code: string,
  message: string,
): { retryable: boolean; retryAfterMs?: number; zh: string } {
  if (code === 'isv.BUSINESS_LIMIT_CONTROL') {
    // "触发分钟级流控Permits:1", "触发小时级流控…", "触发天级流控…"
    const retryAfterMs = message.includes('天级')
      ? 86_400_000
      : message.includes('小时级')
        ? 3_600_000
        : 60_000;
    return { retryable: true, retryAfterMs, zh: '触发阿里云短信业务流控（同一号码发送过于频繁）' };
  }
  if (code === 'isp.SYSTEM_ERROR' || code === 'ServiceUnavailable' || code.startsWith('Throttling')) {
    return { retryable: true, retryAfterMs: 60_000, zh: '阿里云系统繁忙或限流' };
  }
  const fixed: Record<string, string> = {
    SignatureDoesNotMatch: 'AccessKey Secret 不正确（签名不匹配）',
    'InvalidAccessKeyId.NotFound': 'AccessKey ID 不存在',
    'isv.MOBILE_NUMBER_ILLEGAL': '手机号码格式错误',
    'isv.SMS_TEMPLATE_ILLEGAL': '短信模板不存在或未通过审核',
    'isv.SMS_SIGNATURE_ILLEGAL': '短信签名不存在或未通过审核',
    'isv.TEMPLATE_MISSING_PARAMETERS': '模板变量缺少值',
    'isv.PARAM_LENGTH_LIMIT': '模板变量超出长度限制',
    'isv.AMOUNT_NOT_ENOUGH': '账户余额不足',
    'isv.OUT_OF_SERVICE': '业务停机（余额不足）',
    'isp.RAM_PERMISSION_DENY': 'RAM 权限不足（需 AliyunDysmsFullAccess）',
  };
  return { retryable: false, zh: fixed[code] ?? '阿里云拒绝发送' };
}

export const aliyunSms: ChannelDescriptor<typeof AliyunSmsOptions> = {
  kind: 'aliyun-sms',
  title: '阿里云短信',
  options: AliyunSmsOptions,
  limits: { maxChars: 500 },
  create(options, deps) {
    const env = deps.env ?? process.env;
    const accessKeyId = resolveSecret(options.accessKeyId, env, 'aliyun-sms.accessKeyId');
    const accessKeySecret = resolveSecret(options.accessKeySecret, env, 'aliyun-sms.accessKeySecret');
    const fetchFn = deps.fetch ?? globalThis.fetch;
    const now = deps.now ?? Date.now;
    const window = options.perMinute ? new SlidingWindow(options.perMinute) : undefined;
    const signature = `【${options.signName}】`;
    const templateText = options.templateText;
    return {
      kind: 'aliyun-sms',
      async send(message): Promise<DeliveryResult> {
        const bad = message.to.filter((n) => !MAINLAND_MOBILE.test(n));
        if (message.to.length === 0 || bad.length > 0) {
          return {
            ok: false,
            retryable: false,
            error: `收件号码无效 / invalid mobile numbers: ${bad.join(', ') || '(none given)'}`,
            ...(bad.length > 0 ? { failedRecipients: bad } : {}),
          };
        }
        const prepared = prepareSmsParams(message.templateParams ?? { [options.textParam]: message.text }, {
          links: options.links,
          maxParamChars: options.maxParamChars,
          maxChars: options.maxChars,
          signature,
          ...(templateText
            ? { render: (p: Record<string, string>) => renderDollarTemplate(templateText, p) }
            : {}),
        });
        if (!prepared.ok) return { ok: false, retryable: false, error: prepared.error };
        if (window) {
          const slot = window.tryAcquire(now());
          if (!slot.ok) return rateLimited('阿里云短信 / Aliyun SMS', options.perMinute!, slot.retryAfterMs);
        }
        const params: Record<string, string> = {
          AccessKeyId: accessKeyId,
          Action: 'SendSms',
          Format: 'JSON',
          RegionId: options.regionId,
          SignatureMethod: 'HMAC-SHA1',
          SignatureNonce: randomUUID(),
          SignatureVersion: '1.0',
          Timestamp: new Date(now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
          Version: '2017-05-25',
          PhoneNumbers: message.to.map((n) => n.replace(/^(?:\+?86|0086)/, '')).join(','),
          SignName: options.signName,
          TemplateCode: options.templateCode,
          TemplateParam: JSON.stringify(prepared.params),
        };
        params.Signature = aliyunRpcSignature('POST', params, accessKeySecret);
        const body = Object.entries(params)
          .map(([k, v]) => `${aliyunPercentEncode(k)}=${aliyunPercentEncode(v)}`)
          .join('&');
        const reply = await callProvider(
          fetchFn,
          options.endpoint,
          { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body },
          options.timeoutMs,
        );
        if (reply.kind === 'unreachable') return unreachable('阿里云短信 / Aliyun SMS', reply);
        const answer = reply.json as { Code?: unknown; Message?: unknown; BizId?: unknown } | undefined;
        if (typeof answer?.Code !== 'string') return unexpectedReply('阿里云短信 / Aliyun SMS', reply, now());
        if (answer.Code === 'OK' && reply.status === 200) {
          deps.log.debug(
            { channel: 'aliyun-sms', recipients: message.to.length, parts: prepared.parts },
            'aliyun sms accepted',
          );
          return {
            ok: true,
            parts: prepared.parts,
            ...(typeof answer.BizId === 'string' ? { providerMessageId: answer.BizId } : {}),
            ...(prepared.truncated ? { truncated: true } : {}),
          };
        }
        const text = String(answer.Message ?? '');
        const known = describeAliyunCode(answer.Code, text);
        deps.log.warn({ channel: 'aliyun-sms', code: answer.Code }, 'aliyun sms refused');
        return {
          ok: false,
          retryable: known.retryable,
          error: `阿里云短信发送失败：${known.zh} / Aliyun SMS refused: ${answer.Code} ${text}`,
          ...(known.retryAfterMs ? { retryAfterMs: known.retryAfterMs } : {}),
        };
      },
    };
  },
};
