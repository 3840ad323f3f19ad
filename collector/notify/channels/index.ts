/**
 * The notification channel registry: the one list of channel kinds. Configuration validation
 * derives the allowed `kind` values from these keys (see {@link ChannelConfig}); there is no
 * registration by import.
 */
import { type Static, type TObject, Type } from '@sinclair/typebox';
import { aliyunSms } from './aliyun-sms.js';
import { dingtalk } from './dingtalk.js';
import { smsWebhook } from './sms-webhook.js';
import { smtp } from './smtp.js';
import { tencentSms } from './tencent-sms.js';
import type { Channel, ChannelDeps, ChannelDescriptor } from './types.js';
import { wecom } from './wecom.js';

export const channels = {
  smtp,
  'aliyun-sms': aliyunSms,
  'tencent-sms': tencentSms,
  'sms-webhook': smsWebhook,
  wecom,
  dingtalk,
} as const satisfies Record<string, ChannelDescriptor>;

export type ChannelKind = keyof typeof channels;
export const CHANNEL_KINDS = Object.keys(channels) as ChannelKind[];

type ConfigOf<K extends ChannelKind> = { kind: K } & Static<(typeof channels)[K]['options']>;
/** One configured channel: `kind` plus that kind's options, e.g. `{kind: 'wecom', key: {env: …}}`. */
export type ChannelConfig = { [K in ChannelKind]: ConfigOf<K> }[ChannelKind];

function withKind(kind: string, options: TObject) {
  return Type.Object({ kind: Type.Literal(kind), ...options.properties }, { additionalProperties: false });
}

/**
 * The schema of one channel's configuration, for the collector's configuration file. It is
 * discriminated by `kind` with if/then, so a mistake is reported against that kind's options
 * only (not once per kind, as a plain union would).
 */
export const ChannelConfig = Type.Unsafe<ChannelConfig>({
  type: 'object',
  required: ['kind'],
  properties: { kind: { type: 'string', enum: CHANNEL_KINDS } },
  allOf: CHANNEL_KINDS.map((kind) => ({
    if: { properties: { kind: { const: kind } }, required: ['kind'] },
    // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then keyword, not a thenable
    then: withKind(kind, channels[kind].options),
  })),
});

/** Creates the channel a validated configuration describes. */
export function createChannel(config: ChannelConfig, deps: ChannelDeps): Channel {
  const { kind, ...options } = config;
  const descriptor: ChannelDescriptor = channels[kind];
  return descriptor.create(options as Static<TObject>, deps);
}

export type {
  Channel,
  ChannelDeps,
  ChannelDescriptor,
  ChannelLimits,
  DeliveryResult,
  OutboundMessage,
} from './types.js';
export { SecretRef } from './types.js';
