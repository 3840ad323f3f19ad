/**
 * The notification channel registry: the one list of channel kinds. Configuration validation
 * derives the allowed `kind` values from these keys; there is no registration by import.
 */
import { aliyunSms } from './aliyun-sms.js';
import { dingtalk } from './dingtalk.js';
import { smsWebhook } from './sms-webhook.js';
import { smtp } from './smtp.js';
import { tencentSms } from './tencent-sms.js';
import type { ChannelDescriptor } from './types.js';
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

export type {
  Channel,
  ChannelDeps,
  ChannelDescriptor,
  ChannelLimits,
  DeliveryResult,
  OutboundMessage,
} from './types.js';
export { SecretRef } from './types.js';
