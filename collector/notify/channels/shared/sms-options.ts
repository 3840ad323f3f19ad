/** Options every SMS channel shares: link policy, length limits, rate, timeout. */
import { Type } from '@sinclair/typebox';
import { SMS_MAX_CHARS } from './sms-text.js';

export const smsCommonOptions = {
  /**
   * What to do with links (http://…, www.…, domain names) in template variables: providers'
   * content review commonly rejects them. 'strip' removes them, 'refuse' fails the message.
   * @defaultValue "strip"
   */
  links: Type.Union([Type.Literal('strip'), Type.Literal('refuse')], { default: 'strip' }),
  /**
   * Longest SMS in characters, signature included; longer messages are shortened (the longest
   * variable first). Providers accept 500 at most; 70 is one billed message, then one per 67.
   * @defaultValue 500
   */
  maxChars: Type.Integer({ default: SMS_MAX_CHARS, minimum: 10, maximum: SMS_MAX_CHARS }),
  /** Messages per sliding minute this channel allows itself; none by default. */
  perMinute: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
  /** @defaultValue 10000 */
  timeoutMs: Type.Integer({ default: 10_000, minimum: 100, maximum: 120_000 }),
};

/** A Chinese mainland mobile number (11 digits, optionally +86/0086), for validation. */
export const MAINLAND_MOBILE = /^(?:\+?86|0086)?1\d{10}$/;
