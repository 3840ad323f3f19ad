/**
 * One HTTP exchange with a provider, with a hard timeout, reduced to what channels judge:
 * either a reply (status, body, parsed JSON) or "unreachable" with a reason. URLs in messages
 * are shown without their query, which carries robot keys and tokens.
 */
import type { DeliveryResult } from '../types.js';

export type ProviderReply =
  | { kind: 'reply'; status: number; headers: Headers; text: string; json: unknown }
  | { kind: 'unreachable'; error: string };

/** `scheme://host/path`, without the query (robot webhook keys live there). */
export function withoutQuery(url: string | URL): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

function networkReason(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return '请求超时 / request timed out';
  const code = e?.cause?.code;
  if (code === 'ECONNREFUSED') return '连接被拒绝 / connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return '域名解析失败 / DNS lookup failed';
  if (code === 'ECONNRESET') return '连接被重置 / connection reset';
  if (code?.startsWith('ERR_TLS') || code?.includes('CERT'))
    return `TLS 证书错误 / TLS certificate error (${code})`;
  return `网络错误 / network error (${code ?? e?.cause?.message ?? e?.message ?? String(err)})`;
}

export async function callProvider(
  fetchFn: typeof fetch,
  url: string | URL,
  init: RequestInit,
  timeoutMs: number,
): Promise<ProviderReply> {
  let response: Response;
  let text: string;
  try {
    response = await fetchFn(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    text = await response.text();
  } catch (err) {
    return { kind: 'unreachable', error: `${withoutQuery(url)}: ${networkReason(err)}` };
  }
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined; // judged by the caller: a provider that answers non-JSON is a failure.
  }
  return { kind: 'reply', status: response.status, headers: response.headers, text, json };
}

/** Seconds or an HTTP date in Retry-After, as milliseconds. */
export function retryAfterMs(headers: Headers, now: number): number | undefined {
  const value = headers.get('retry-after');
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The usual verdict for a reply that is not the provider's own success or error shape. */
export function unexpectedReply(
  what: string,
  reply: Extract<ProviderReply, { kind: 'reply' }>,
  now: number,
): Extract<DeliveryResult, { ok: false }> {
  const retryable = reply.status >= 500 || reply.status === 429 || reply.status === 408;
  const after = retryAfterMs(reply.headers, now);
  return {
    ok: false,
    retryable,
    error: `${what} 返回了无法识别的应答 / unexpected answer: HTTP ${reply.status} ${reply.text.slice(0, 200)}`,
    ...(after === undefined ? {} : { retryAfterMs: after }),
  };
}

export function unreachable(what: string, reply: Extract<ProviderReply, { kind: 'unreachable' }>) {
  return {
    ok: false as const,
    retryable: true,
    error: `${what} 无法访问 / unreachable: ${reply.error}`,
  };
}

/** Reads a dotted path (`a.b.0.c`) from parsed JSON. */
export function atPath(value: unknown, path: string): unknown {
  let cur: unknown = value;
  for (const key of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}
