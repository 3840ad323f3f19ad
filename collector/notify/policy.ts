/**
 * The notification policy file (YAML): channel instances, routes (match → receivers), quiet
 * hours, escalation and the outbox's retry settings. Without a file nothing is sent (tickets are
 * still opened and their timelines say so).
 *
 * ```yaml
 * channels:
 *   ops-mail: { kind: smtp, host: smtp.example.gov.cn, mode: starttls, from: { address: ops@example.gov.cn, name: 信用运维 } }
 *   oncall-sms: { kind: aliyun-sms, … }
 * quietHours: { timeZone: Asia/Shanghai, start: "22:00", end: "08:00" }
 * routes:
 *   - name: db-p1
 *     match: { severity: [P1], labels: { team: db } }
 *     receivers: [{ channel: ops-mail, to: ["张三 <zhang@example.gov.cn>"] }]
 *     escalation:
 *       - { afterMinutes: 15, receivers: [{ channel: oncall-sms, to: ["13800000000"] }] }
 *       - { afterMinutes: 30, receivers: [{ channel: oncall-sms, to: ["13900000000"] }] }
 * ```
 */
import { type Static, Type } from '@sinclair/typebox';
import { loadConfigFile, parseConfig } from '../../lib/config-file.js';
import { SEVERITIES, TICKET_KINDS } from '../tickets/policy.js';
import { ChannelConfig } from './channels/index.js';

export const Receiver = Type.Object(
  {
    /** A channel instance name from `channels`. */
    channel: Type.String({ minLength: 1 }),
    /** Recipients in the channel's terms (mail addresses, mobiles; may be empty for a robot). */
    to: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
  },
  { additionalProperties: false },
);
export type Receiver = Static<typeof Receiver>;

export const QuietHours = Type.Object(
  {
    /** @defaultValue "Asia/Shanghai" */
    timeZone: Type.String({ default: 'Asia/Shanghai' }),
    /** Local start, HH:mm. */
    start: Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$' }),
    /** Local end, HH:mm (may be earlier than start: the quiet period crosses midnight). */
    end: Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$' }),
    /**
     * Severities that ignore quiet hours. P1 always does.
     * @defaultValue ["P1"]
     */
    except: Type.Array(Type.Unsafe<string>({ type: 'string', enum: [...SEVERITIES] }), { default: ['P1'] }),
  },
  { additionalProperties: false },
);
export type QuietHours = Static<typeof QuietHours>;

export const Route = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    match: Type.Object(
      {
        severity: Type.Optional(Type.Array(Type.Unsafe<string>({ type: 'string', enum: [...SEVERITIES] }))),
        kind: Type.Optional(Type.Array(Type.Unsafe<string>({ type: 'string', enum: [...TICKET_KINDS] }))),
        /** Every label listed must equal (a value ending in `*` matches a prefix). Host is label `host`. */
        labels: Type.Optional(Type.Record(Type.String(), Type.String())),
      },
      { additionalProperties: false, default: {} },
    ),
    receivers: Type.Array(Receiver, { default: [] }),
    /** Steps after the ticket opened while it stays unacknowledged, in increasing afterMinutes. */
    escalation: Type.Array(
      Type.Object(
        {
          afterMinutes: Type.Integer({ minimum: 1, maximum: 100_000 }),
          receivers: Type.Array(Receiver, { minItems: 1 }),
        },
        { additionalProperties: false },
      ),
      { default: [] },
    ),
    /** Overrides the global quiet hours for this route; `false` turns them off. */
    quietHours: Type.Optional(Type.Union([QuietHours, Type.Literal(false)])),
    /**
     * Keep looking for further matching routes after this one.
     * @defaultValue false
     */
    continue: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);
export type Route = Static<typeof Route>;

export const NOTIFY_EVENTS = ['opened', 'reopened', 'resolved', 'deadline_missed', 'escalated'] as const;

export const NotificationPolicy = Type.Object(
  {
    channels: Type.Record(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }), ChannelConfig, {
      default: {},
    }),
    quietHours: Type.Optional(QuietHours),
    routes: Type.Array(Route, { default: [] }),
    /**
     * Which ticket events notify.
     * @defaultValue ["opened", "reopened", "resolved", "deadline_missed", "escalated"]
     */
    events: Type.Array(Type.Unsafe<string>({ type: 'string', enum: [...NOTIFY_EVENTS] }), {
      default: [...NOTIFY_EVENTS],
    }),
    outbox: Type.Object(
      {
        /** @defaultValue 8 */
        maxAttempts: Type.Integer({ minimum: 1, maximum: 100, default: 8 }),
        /** First retry delay; doubles per attempt. @defaultValue 30 */
        initialBackoffSeconds: Type.Number({ minimum: 0.01, maximum: 3600, default: 30 }),
        /** @defaultValue 3600 */
        maxBackoffSeconds: Type.Number({ minimum: 1, maximum: 86_400, default: 3600 }),
        /**
         * How long a claimed message may stay in `sending`; after that (a crash) it is `unknown`,
         * not resent. Longer than any channel's timeout. @defaultValue 300
         */
        leaseSeconds: Type.Integer({ minimum: 5, maximum: 3600, default: 300 }),
        /**
         * Channel instances for which a duplicate is better than a miss: a message found in
         * `sending` after a crash is sent again. Never list SMS channels (not idempotent, billed).
         * @defaultValue []
         */
        resendAfterCrash: Type.Array(Type.String(), { default: [] }),
        /**
         * Grouping per receiver (channel instance + recipients): a message goes out at once when
         * nothing went to that receiver in the last `groupWindowSeconds`; otherwise it waits for
         * the window to close and all messages due by then leave as one digest (【通知汇总】)
         * listing the tickets. An alert storm costs a receiver one message per window. 0 = off.
         * @defaultValue 0
         * @example 60
         */
        groupWindowSeconds: Type.Number({ minimum: 0, maximum: 3600, default: 0 }),
      },
      { additionalProperties: false, default: {} },
    ),
  },
  { additionalProperties: false, default: {} },
);
export type NotificationPolicy = Static<typeof NotificationPolicy>;

/** Cross-references the schema cannot express: every receiver names a configured channel. */
export function checkNotificationPolicy(policy: NotificationPolicy, file: string): void {
  const problems: string[] = [];
  const known = new Set(Object.keys(policy.channels));
  policy.routes.forEach((route, i) => {
    const receivers = [...route.receivers, ...route.escalation.flatMap((s) => s.receivers)];
    for (const r of receivers)
      if (!known.has(r.channel))
        problems.push(`routes[${i}] (${route.name}): unknown channel "${r.channel}"`);
    for (let s = 1; s < route.escalation.length; s++)
      if (route.escalation[s]!.afterMinutes <= route.escalation[s - 1]!.afterMinutes)
        problems.push(`routes[${i}] (${route.name}).escalation[${s}]: afterMinutes must increase`);
  });
  for (const c of policy.outbox.resendAfterCrash)
    if (!known.has(c)) problems.push(`outbox.resendAfterCrash: unknown channel "${c}"`);
  if (problems.length > 0) throw new Error(`${file}: ${problems.join('; ')}`);
}

export function loadNotificationPolicy(file?: string): NotificationPolicy {
  const policy =
    file === undefined
      ? parseConfig(NotificationPolicy, '{}', '(defaults)')
      : loadConfigFile(NotificationPolicy, file);
  checkNotificationPolicy(policy, file ?? '(defaults)');
  return policy;
}

export function parseNotificationPolicy(text: string, file = '(inline)'): NotificationPolicy {
  const policy = parseConfig(NotificationPolicy, text, file);
  checkNotificationPolicy(policy, file);
  return policy;
}
