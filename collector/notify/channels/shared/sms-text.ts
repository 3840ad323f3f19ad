/**
 * SMS length and content rules shared by the SMS channels (DOMAIN.md §8): up to 70 characters
 * is one message, longer ones are billed per 67 characters, 500 at most, the signature
 * (【签名】) included. Links in template variables are commonly rejected by the providers'
 * content review, so they are stripped or refused before sending.
 */
import { charCount, truncateChars } from './text-limits.js';

export const SMS_SINGLE_CHARS = 70;
export const SMS_PART_CHARS = 67;
export const SMS_MAX_CHARS = 500;

/** Billed parts for a text of `chars` characters. */
export function smsParts(chars: number): number {
  return chars <= SMS_SINGLE_CHARS ? 1 : Math.ceil(chars / SMS_PART_CHARS);
}

// http(s)/ftp links, www.… and bare domains with a common public suffix, with an optional path.
const LINK =
  /(?:\b(?:https?|ftp):\/\/|\bwww\.)[^\s，。；、）)]+|\b[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.(?:cn|com|net|org|gov|edu|info|top|xyz|io|cc|me)\b(?::\d+)?(?:\/[^\s，。；、）)]*)?/gi;

export function containsLink(text: string): boolean {
  LINK.lastIndex = 0;
  return LINK.test(text);
}

export function stripLinks(text: string): string {
  return text
    .replace(LINK, '')
    .replace(/[ \t]{2,}/g, ' ')
    .trim();
}

export interface SmsTextPolicy {
  /** 'strip' removes links from variables; 'refuse' fails the message (not retryable). */
  links: 'strip' | 'refuse';
  /** Provider limit per variable value, in characters (none when undefined). */
  maxParamChars?: number;
  /** Longest whole SMS, signature included. */
  maxChars: number;
  /** The signature as shown, e.g. `【信用某市】`. */
  signature: string;
  /** Renders the approved template with values; when unknown, the values joined (a lower bound). */
  render?: (params: Record<string, string>) => string;
}

export type PreparedSms =
  | { ok: true; params: Record<string, string>; chars: number; parts: number; truncated: boolean }
  | { ok: false; error: string };

/** Applies the link policy and the length limits to template values. */
export function prepareSmsParams(input: Record<string, string>, policy: SmsTextPolicy): PreparedSms {
  const params: Record<string, string> = {};
  let truncated = false;
  for (const [name, raw] of Object.entries(input)) {
    let value = raw;
    if (containsLink(value)) {
      if (policy.links === 'refuse') {
        return {
          ok: false,
          error:
            `短信模板变量 ${name} 含有链接，运营商通常拒发含链接的变量；已拒绝发送（可配置 links: strip 自动去除） / ` +
            `SMS template variable ${name} contains a link, which providers commonly reject; not sent (set links: strip to remove links)`,
        };
      }
      value = stripLinks(value);
    }
    if (policy.maxParamChars !== undefined) {
      const cut = truncateChars(value, policy.maxParamChars);
      value = cut.text;
      truncated ||= cut.truncated;
    }
    params[name] = value;
  }
  const render = policy.render ?? ((p: Record<string, string>) => Object.values(p).join(''));
  const total = () => charCount(policy.signature) + charCount(render(params));
  // Shorten the longest value until the whole SMS fits; values are what vary, the template is fixed.
  while (total() > policy.maxChars) {
    const longest = Object.entries(params).sort((a, b) => charCount(b[1]) - charCount(a[1]))[0];
    if (!longest || charCount(longest[1]) <= 1) {
      return {
        ok: false,
        error: `短信模板本身超过 ${policy.maxChars} 字，无法发送 / the SMS template alone exceeds ${policy.maxChars} characters`,
      };
    }
    const over = total() - policy.maxChars;
    params[longest[0]] = truncateChars(longest[1], Math.max(1, charCount(longest[1]) - over)).text;
    truncated = true;
  }
  const chars = total();
  return { ok: true, params, chars, parts: smsParts(chars), truncated };
}

/** Renders an Aliyun-style template (`${name}` variables); unknown names stay as written. */
export function renderDollarTemplate(template: string, params: Record<string, string>): string {
  return template.replace(/\$\{([A-Za-z0-9_]+)\}/g, (whole, name: string) => params[name] ?? whole);
}
