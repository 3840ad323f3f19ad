/**
 * The contract between notification channels and whatever sends through them (the outbox).
 *
 * A channel kind is a {@link ChannelDescriptor}: a TypeBox schema for its options, its provider
 * limits, and `create()` which turns validated options into a {@link Channel}. A channel sends
 * one message and answers with a {@link DeliveryResult}; it never throws for a delivery problem
 * (a throw from `send` is a programmer error). Secrets in options are {@link SecretRef}s,
 * resolved once in `create()` and never logged.
 */
import { type Static, type TObject, Type } from '@sinclair/typebox';
import type { Logger } from '../../../lib/log.js';

/**
 * Where a secret lives: an environment variable or a file (its content, trailing newline
 * trimmed). Never the secret itself: configuration files get copied, committed and pasted.
 * @example { "env": "CREDITOPS_SMTP_PASSWORD" }
 * @example { "file": "/etc/creditops/secrets/dingtalk-secret" }
 */
export const SecretRef = Type.Union(
  [
    Type.Object(
      { env: Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }) },
      { additionalProperties: false },
    ),
    Type.Object({ file: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
  ],
  { description: 'a secret by reference: {"env": "NAME"} or {"file": "/path"}' },
);
export type SecretRef = Static<typeof SecretRef>;

/** A file attached to a mail. Channels other than SMTP ignore attachments. */
export interface Attachment {
  /** Shown to the reader; may be Chinese (encoded per RFC 2231 by the SMTP channel). */
  filename: string;
  content: string | Uint8Array;
  /** @defaultValue derived from the filename */
  contentType?: string;
}

/** One notification, as the outbox hands it to a channel. */
export interface OutboundMessage {
  /**
   * Recipients in the channel's terms: mail addresses (`张三 <zhang@example.gov.cn>` allowed) for
   * SMTP, mobile numbers for SMS, mobiles to @-mention for WeCom and DingTalk (may be empty).
   */
  to: string[];
  /** Mail subject; the title of a DingTalk markdown message. */
  subject: string;
  /** Plain text body; what chat channels send when there is no markdown. */
  text: string;
  /** Markdown body for WeCom and DingTalk (their dialects), preferred over `text` when given. */
  markdown?: string;
  /** Values for the variables of an SMS template (Aliyun `${name}`; Tencent by `paramNames`). */
  templateParams?: Record<string, string>;
  /** SMTP only. */
  attachments?: Attachment[];
}

export type DeliveryResult =
  | {
      ok: true;
      /** The provider's id for the message (mail Message-ID, Aliyun BizId, Tencent SerialNo…). */
      providerMessageId?: string;
      /** Billed SMS parts (70 characters make one, longer texts are billed per 67). */
      parts?: number;
      /** Set when the channel shortened the message to fit the provider's limit. */
      truncated?: boolean;
    }
  | {
      ok: false;
      /** Whether sending the same message again later may succeed (outage, rate limit). */
      retryable: boolean;
      /** Chinese first, then English; names what is wrong and, where known, what to fix. */
      error: string;
      /** Wait at least this long before retrying (rate limits). */
      retryAfterMs?: number;
      /**
       * When the provider accepted some recipients and refused others: the refused ones. A retry
       * must go to these only, or the others get the message twice.
       */
      failedRecipients?: string[];
    };

export interface Channel {
  readonly kind: string;
  send(message: OutboundMessage): Promise<DeliveryResult>;
  /** Releases connections (SMTP). Optional. */
  close?(): Promise<void>;
}

/** What a channel may use from the world; everything injectable for tests. */
export interface ChannelDeps {
  /** @defaultValue globalThis.fetch */
  fetch?: typeof fetch;
  /** Milliseconds since the epoch. @defaultValue Date.now */
  now?: () => number;
  log: Logger;
  /** Where `{env: NAME}` secrets are looked up. @defaultValue process.env */
  env?: Record<string, string | undefined>;
}

export interface ChannelLimits {
  /** Longest body in UTF-8 bytes (WeCom: 2048 text, 4096 markdown). */
  maxBytes?: number;
  /** Longest markdown body in UTF-8 bytes, when it differs from `maxBytes`. */
  maxMarkdownBytes?: number;
  /** Longest text in characters (SMS: 500 including the signature). */
  maxChars?: number;
  /** Messages per sliding minute a channel instance allows itself (WeCom, DingTalk: 20). */
  perMinute?: number;
}

export interface ChannelDescriptor<S extends TObject = TObject> {
  /** The `kind` in configuration, e.g. `aliyun-sms`. */
  kind: string;
  /** Chinese name for the UI, e.g. `阿里云短信`. */
  title: string;
  /** The options schema; `create` receives options already validated against it (defaults applied). */
  options: S;
  /** The provider's limits as defaults; options may lower `perMinute`. */
  limits: ChannelLimits;
  /** @throws when a secret cannot be resolved or an option is unusable: a start-up failure. */
  create(options: Static<S>, deps: ChannelDeps): Channel;
}
