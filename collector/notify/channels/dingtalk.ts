/**
 * DingTalk (钉钉) custom robot, signed ("加签").
 *
 * POST {endpoint}?access_token=TOKEN&timestamp=MS&sign=SIGN, where SIGN is
 * base64(HMAC-SHA256(key = secret, data = `${timestamp}\n${secret}`)) URL-encoded; DingTalk
 * rejects a timestamp more than an hour off. Body `{"msgtype":"text","text":{"content":…},
 * "at":{"atMobiles":[…]}}` or `{"msgtype":"markdown","markdown":{"title":…,"text":…}}`. A robot
 * accepts 20 messages a minute (then it is muted for 10 minutes). Failure is HTTP 200 with
 * `errcode` ≠ 0 (310000 for a wrong signature, keyword or IP; 130101 for the rate limit).
 */
import { createHmac } from 'node:crypto';
import { type Static, Type } from '@sinclair/typebox';
import { callProvider, unexpectedReply, unreachable } from './shared/provider-http.js';
import { rateLimited, SlidingWindow } from './shared/rate-window.js';
import { resolveSecret } from './shared/secrets.js';
import { truncateUtf8 } from './shared/text-limits.js';
import { type ChannelDescriptor, type DeliveryResult, SecretRef } from './types.js';

export const DingtalkOptions = Type.Object(
  {
    /** @defaultValue "https://oapi.dingtalk.com/robot/send" */
    endpoint: Type.String({ default: 'https://oapi.dingtalk.com/robot/send', pattern: '^https?://' }),
    /** The robot's `access_token` (from its webhook address). */
    accessToken: SecretRef,
    /** The robot's signing secret (`SEC…`), shown when "加签" is enabled. */
    secret: SecretRef,
    /** @defaultValue true */
    useMarkdown: Type.Boolean({ default: true }),
    /** @defaultValue 20 (DingTalk's limit per robot) */
    perMinute: Type.Integer({ default: 20, minimum: 1, maximum: 20 }),
    /** @defaultValue 10000 */
    timeoutMs: Type.Integer({ default: 10_000, minimum: 100, maximum: 120_000 }),
  },
  { additionalProperties: false },
);
export type DingtalkOptions = Static<typeof DingtalkOptions>;

/** DingTalk does not publish a byte limit; messages of this size are known to pass. */
export const DINGTALK_MAX_BYTES = 20_000;

/** The `sign` parameter before URL encoding. */
export function dingtalkSign(timestamp: number, secret: string): string {
  return createHmac('sha256', secret).update(`${timestamp}\n${secret}`, 'utf8').digest('base64');
}

const ERRCODES: Record<number, { retryable: boolean; retryAfterMs?: number; zh: string }> = {
  [-1]: { retryable: true, zh: '钉钉系统繁忙' },
  130101: { retryable: true, retryAfterMs: 60_000, zh: '机器人发送过快（每分钟 20 条）' },
  310000: { retryable: false, zh: '安全设置校验失败：签名不匹配、时间戳超出 1 小时、关键词或 IP 不符' },
  300001: { retryable: false, zh: 'access_token 无效' },
  400102: { retryable: false, zh: '机器人已停用' },
};

export const dingtalk: ChannelDescriptor<typeof DingtalkOptions> = {
  kind: 'dingtalk',
  title: '钉钉群机器人',
  options: DingtalkOptions,
  limits: { maxBytes: DINGTALK_MAX_BYTES, perMinute: 20 },
  create(options, deps) {
    const env = deps.env ?? process.env;
    const token = resolveSecret(options.accessToken, env, 'dingtalk.accessToken');
    const secret = resolveSecret(options.secret, env, 'dingtalk.secret');
    const fetchFn = deps.fetch ?? globalThis.fetch;
    const now = deps.now ?? Date.now;
    const window = new SlidingWindow(options.perMinute);
    return {
      kind: 'dingtalk',
      async send(message): Promise<DeliveryResult> {
        const asMarkdown = options.useMarkdown && message.markdown !== undefined;
        const cut = truncateUtf8(asMarkdown ? message.markdown! : message.text, DINGTALK_MAX_BYTES);
        const at = message.to.length > 0 ? { at: { atMobiles: message.to, isAtAll: false } } : {};
        const body = asMarkdown
          ? { msgtype: 'markdown', markdown: { title: message.subject, text: cut.text }, ...at }
          : { msgtype: 'text', text: { content: cut.text }, ...at };
        const slot = window.tryAcquire(now());
        if (!slot.ok) return rateLimited('钉钉机器人 / DingTalk robot', options.perMinute, slot.retryAfterMs);
        const timestamp = now();
        const url = new URL(options.endpoint);
        url.searchParams.set('access_token', token);
        url.searchParams.set('timestamp', String(timestamp));
        // URLSearchParams percent-encodes '+', '/' and '=' of the base64, as DingTalk requires.
        url.searchParams.set('sign', dingtalkSign(timestamp, secret));
        const reply = await callProvider(
          fetchFn,
          url,
          { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
          options.timeoutMs,
        );
        if (reply.kind === 'unreachable') return unreachable('钉钉 / DingTalk', reply);
        const answer = reply.json as { errcode?: unknown; errmsg?: unknown } | undefined;
        if (reply.status !== 200 || typeof answer?.errcode !== 'number') {
          return unexpectedReply('钉钉 / DingTalk', reply, now());
        }
        if (answer.errcode === 0) {
          deps.log.debug({ channel: 'dingtalk', truncated: cut.truncated }, 'dingtalk message sent');
          return { ok: true, ...(cut.truncated ? { truncated: true } : {}) };
        }
        const known = ERRCODES[answer.errcode];
        deps.log.warn({ channel: 'dingtalk', errcode: answer.errcode }, 'dingtalk message refused');
        return {
          ok: false,
          retryable: known?.retryable ?? false,
          error: `钉钉机器人发送失败${known ? `：${known.zh}` : ''} / DingTalk robot refused the message: errcode ${answer.errcode} ${String(answer.errmsg ?? '')}`,
          ...(known?.retryAfterMs ? { retryAfterMs: known.retryAfterMs } : {}),
        };
      },
    };
  },
};
