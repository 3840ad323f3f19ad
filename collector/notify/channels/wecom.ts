/**
 * WeCom (企业微信) group robot webhook.
 *
 * POST {endpoint}?key=KEY with `{"msgtype":"text","text":{"content":…,"mentioned_mobile_list":[…]}}`
 * or `{"msgtype":"markdown","markdown":{"content":…}}`. Text is limited to 2,048 bytes and markdown
 * to 4,096 bytes of UTF-8: longer bodies are cut at a character boundary with a marker. A robot
 * accepts 20 messages a minute. Failure is HTTP 200 with `errcode` ≠ 0 (e.g. 93000 for a wrong
 * key, 45009 for the rate limit), so success is judged by `errcode === 0` only.
 */
import { type Static, Type } from '@sinclair/typebox';
import { callProvider, unexpectedReply, unreachable } from './shared/provider-http.js';
import { rateLimited, SlidingWindow } from './shared/rate-window.js';
import { resolveSecret } from './shared/secrets.js';
import { truncateUtf8 } from './shared/text-limits.js';
import { type ChannelDescriptor, type DeliveryResult, SecretRef } from './types.js';

export const WecomOptions = Type.Object(
  {
    /**
     * The robot endpoint without the key.
     * @defaultValue "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"
     */
    endpoint: Type.String({
      default: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send',
      pattern: '^https?://',
    }),
    /** The robot's `key` (the part after `?key=` in its webhook address). */
    key: SecretRef,
    /** Send `markdown` bodies as markdown (they cannot @-mention by mobile). @defaultValue true */
    useMarkdown: Type.Boolean({ default: true }),
    /** @defaultValue 20 (WeCom's limit per robot) */
    perMinute: Type.Integer({ default: 20, minimum: 1, maximum: 20 }),
    /** @defaultValue 10000 */
    timeoutMs: Type.Integer({ default: 10_000, minimum: 100, maximum: 120_000 }),
  },
  { additionalProperties: false },
);
export type WecomOptions = Static<typeof WecomOptions>;

export const WECOM_TEXT_MAX_BYTES = 2048;
export const WECOM_MARKDOWN_MAX_BYTES = 4096;

/** errcodes worth their own words; others are reported with WeCom's errmsg. */
const ERRCODES: Record<number, { retryable: boolean; retryAfterMs?: number; zh: string }> = {
  [-1]: { retryable: true, zh: '企业微信系统繁忙' },
  45009: { retryable: true, retryAfterMs: 60_000, zh: '机器人发送频率超限（每分钟 20 条）' },
  93000: { retryable: false, zh: '机器人 webhook 地址无效：请检查 key 是否正确、机器人是否已被移出群' },
  93004: { retryable: false, zh: '机器人已被停用' },
  40058: { retryable: false, zh: '消息内容过长或参数不合法' },
};

export const wecom: ChannelDescriptor<typeof WecomOptions> = {
  kind: 'wecom',
  title: '企业微信群机器人',
  options: WecomOptions,
  limits: { maxBytes: WECOM_TEXT_MAX_BYTES, maxMarkdownBytes: WECOM_MARKDOWN_MAX_BYTES, perMinute: 20 },
  create(options, deps) {
    const key = resolveSecret(options.key, deps.env ?? process.env, 'wecom.key');
    const fetchFn = deps.fetch ?? globalThis.fetch;
    const now = deps.now ?? Date.now;
    const window = new SlidingWindow(options.perMinute);
    const url = new URL(options.endpoint);
    url.searchParams.set('key', key);
    return {
      kind: 'wecom',
      async send(message): Promise<DeliveryResult> {
        const asMarkdown = options.useMarkdown && message.markdown !== undefined;
        const cut = asMarkdown
          ? truncateUtf8(message.markdown!, WECOM_MARKDOWN_MAX_BYTES)
          : truncateUtf8(message.text, WECOM_TEXT_MAX_BYTES);
        const body = asMarkdown
          ? { msgtype: 'markdown', markdown: { content: cut.text } }
          : {
              msgtype: 'text',
              text: {
                content: cut.text,
                ...(message.to.length > 0 ? { mentioned_mobile_list: message.to } : {}),
              },
            };
        const slot = window.tryAcquire(now());
        if (!slot.ok)
          return rateLimited('企业微信机器人 / WeCom robot', options.perMinute, slot.retryAfterMs);
        const reply = await callProvider(
          fetchFn,
          url,
          { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
          options.timeoutMs,
        );
        if (reply.kind === 'unreachable') return unreachable('企业微信 / WeCom', reply);
        const answer = reply.json as { errcode?: unknown; errmsg?: unknown } | undefined;
        if (reply.status !== 200 || typeof answer?.errcode !== 'number') {
          return unexpectedReply('企业微信 / WeCom', reply, now());
        }
        if (answer.errcode === 0) {
          deps.log.debug({ channel: 'wecom', truncated: cut.truncated }, 'wecom message sent');
          return { ok: true, ...(cut.truncated ? { truncated: true } : {}) };
        }
        const known = ERRCODES[answer.errcode];
        const result: DeliveryResult = {
          ok: false,
          retryable: known?.retryable ?? false,
          error: `企业微信机器人发送失败${known ? `：${known.zh}` : ''} / WeCom robot refused the message: errcode ${answer.errcode} ${String(answer.errmsg ?? '')}`,
          ...(known?.retryAfterMs ? { retryAfterMs: known.retryAfterMs } : {}),
        };
        deps.log.warn({ channel: 'wecom', errcode: answer.errcode }, 'wecom message refused');
        return result;
      },
    };
  },
};
