/**
 * A generic HTTP SMS gateway (an operator's or a provincial platform's): URL, method, headers
 * and a body template with placeholders; success judged by the HTTP status and, optionally, a
 * value at a JSON path of the answer.
 *
 * Placeholders: `{{to}}` (numbers joined by `recipientSeparator`), `{{text}}`, `{{subject}}`,
 * `{{param.NAME}}` (from `templateParams`). In the body they are escaped for `bodyEncoding`:
 * `json` escapes as inside a JSON string (write `"content": "{{text}}"`), `form` percent-encodes,
 * `none` inserts as is. In `query` values they are always percent-encoded.
 *
 * @example
 * ```yaml
 * kind: sms-webhook
 * url: https://sms-gw.example.gov.cn/api/send
 * headers: { Authorization: { env: SMS_GATEWAY_TOKEN } }
 * body: '{"mobiles": "{{to}}", "content": "{{text}}"}'
 * success: { jsonPath: code, equals: 0 }
 * messageIdPath: data.msgId
 * ```
 */
import { type Static, Type } from '@sinclair/typebox';
import { atPath, callProvider, unreachable } from './shared/provider-http.js';
import { rateLimited, SlidingWindow } from './shared/rate-window.js';
import { resolveSecret } from './shared/secrets.js';
import { smsCommonOptions } from './shared/sms-options.js';
import { prepareSmsParams } from './shared/sms-text.js';
import { type ChannelDescriptor, type DeliveryResult, SecretRef } from './types.js';

export const SmsWebhookOptions = Type.Object(
  {
    url: Type.String({ pattern: '^https?://' }),
    /** @defaultValue "POST" */
    method: Type.Union([Type.Literal('POST'), Type.Literal('PUT'), Type.Literal('GET')], { default: 'POST' }),
    /**
     * Header values: plain strings, or secrets by reference; a secret is the whole header value
     * (e.g. the variable holds `Bearer 3f9a…`).
     */
    headers: Type.Record(Type.String(), Type.Union([Type.String(), SecretRef]), { default: {} }),
    /** Query parameters added to the URL; values may hold placeholders. */
    query: Type.Record(Type.String(), Type.String(), { default: {} }),
    /** The body template (not sent with GET). */
    body: Type.Optional(Type.String()),
    /** @defaultValue "json" */
    bodyEncoding: Type.Union([Type.Literal('json'), Type.Literal('form'), Type.Literal('none')], {
      default: 'json',
    }),
    /** Content-Type of the body; by default from `bodyEncoding`. */
    contentType: Type.Optional(Type.String()),
    /** @defaultValue "," */
    recipientSeparator: Type.String({ default: ',' }),
    /** The gateway's signature as it appears in the SMS (for counting characters), e.g. `【信用某市】`. */
    signature: Type.String({ default: '' }),
    success: Type.Object(
      {
        /** Statuses that may mean success; by default any 2xx. */
        status: Type.Optional(Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), { minItems: 1 })),
        /** A dotted path into the JSON answer (`result.code`) that must equal `equals`. */
        jsonPath: Type.Optional(Type.String({ minLength: 1 })),
        equals: Type.Optional(Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
      },
      { additionalProperties: false, default: {} },
    ),
    /** A dotted path to the gateway's message id in the JSON answer. */
    messageIdPath: Type.Optional(Type.String({ minLength: 1 })),
    ...smsCommonOptions,
  },
  { additionalProperties: false },
);
export type SmsWebhookOptions = Static<typeof SmsWebhookOptions>;

type Values = Record<string, string>;

function fill(template: string, values: Values, encode: (v: string) => string): string {
  return template.replace(/\{\{\s*([A-Za-z0-9_.]+)\s*\}\}/g, (whole, name: string) =>
    name in values ? encode(values[name]!) : whole,
  );
}

const escapers = {
  json: (v: string) => JSON.stringify(v).slice(1, -1),
  form: (v: string) => encodeURIComponent(v),
  none: (v: string) => v,
};
const defaultContentType = {
  json: 'application/json; charset=utf-8',
  form: 'application/x-www-form-urlencoded',
  none: 'text/plain; charset=utf-8',
};

export const smsWebhook: ChannelDescriptor<typeof SmsWebhookOptions> = {
  kind: 'sms-webhook',
  title: '短信网关（HTTP）',
  options: SmsWebhookOptions,
  limits: { maxChars: 500 },
  create(options, deps) {
    const env = deps.env ?? process.env;
    if (options.success.jsonPath !== undefined && options.success.equals === undefined) {
      throw new Error('sms-webhook.success: jsonPath 需要同时配置 equals / jsonPath needs equals');
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers)) {
      headers[name.toLowerCase()] =
        typeof value === 'string' ? value : resolveSecret(value, env, `sms-webhook.headers.${name}`);
    }
    if (options.method !== 'GET' && options.body !== undefined && !headers['content-type']) {
      headers['content-type'] = options.contentType ?? defaultContentType[options.bodyEncoding];
    }
    const fetchFn = deps.fetch ?? globalThis.fetch;
    const now = deps.now ?? Date.now;
    const window = options.perMinute ? new SlidingWindow(options.perMinute) : undefined;
    const what = 'HTTP 短信网关 / SMS gateway';
    return {
      kind: 'sms-webhook',
      async send(message): Promise<DeliveryResult> {
        if (message.to.length === 0)
          return { ok: false, retryable: false, error: '没有收件号码 / no recipients' };
        // The text is what the gateway sends: it alone is counted; parameters only get the link policy.
        const prepared = prepareSmsParams(
          { text: message.text },
          { links: options.links, maxChars: options.maxChars, signature: options.signature },
        );
        if (!prepared.ok) return { ok: false, retryable: false, error: prepared.error };
        const params = prepareSmsParams(message.templateParams ?? {}, {
          links: options.links,
          maxChars: Number.MAX_SAFE_INTEGER,
          signature: '',
        });
        if (!params.ok) return { ok: false, retryable: false, error: params.error };
        const values: Values = {
          text: prepared.params.text ?? '',
          to: message.to.join(options.recipientSeparator),
          subject: message.subject,
          ...Object.fromEntries(Object.entries(params.params).map(([k, v]) => [`param.${k}`, v])),
        };
        const url = new URL(options.url);
        for (const [name, value] of Object.entries(options.query))
          url.searchParams.set(
            name,
            fill(value, values, (v) => v),
          );
        const body =
          options.method === 'GET' || options.body === undefined
            ? undefined
            : fill(options.body, values, escapers[options.bodyEncoding]);
        if (window) {
          const slot = window.tryAcquire(now());
          if (!slot.ok) return rateLimited(what, options.perMinute!, slot.retryAfterMs);
        }
        const reply = await callProvider(
          fetchFn,
          url,
          { method: options.method, headers, ...(body === undefined ? {} : { body }) },
          options.timeoutMs,
        );
        if (reply.kind === 'unreachable') return unreachable(what, reply);
        const statusOk = options.success.status
          ? options.success.status.includes(reply.status)
          : reply.status >= 200 && reply.status < 300;
        const valueOk =
          options.success.jsonPath === undefined ||
          atPath(reply.json, options.success.jsonPath) === options.success.equals;
        if (statusOk && valueOk) {
          const id = options.messageIdPath ? atPath(reply.json, options.messageIdPath) : undefined;
          deps.log.debug({ channel: 'sms-webhook', recipients: message.to.length }, 'sms gateway accepted');
          return {
            ok: true,
            parts: prepared.parts,
            ...(id === undefined || id === null ? {} : { providerMessageId: String(id) }),
            ...(prepared.truncated ? { truncated: true } : {}),
          };
        }
        deps.log.warn({ channel: 'sms-webhook', status: reply.status }, 'sms gateway refused');
        const retryable = reply.status >= 500 || reply.status === 429 || reply.status === 408;
        const got = options.success.jsonPath
          ? ` ${options.success.jsonPath}=${JSON.stringify(atPath(reply.json, options.success.jsonPath))}`
          : '';
        return {
          ok: false,
          retryable,
          error: `短信网关未接受 / SMS gateway did not accept the message: HTTP ${reply.status}${got} ${reply.text.slice(0, 200)}`,
        };
      },
    };
  },
};
