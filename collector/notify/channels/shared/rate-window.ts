/**
 * A sliding one-minute window per channel instance: the providers' robot limits (WeCom and
 * DingTalk, 20 messages a minute) count requests in any 60 s, and exceeding them gets the
 * robot muted for a while, so we refuse locally and tell the caller when to come back.
 */
export class SlidingWindow {
  readonly #sent: number[] = [];

  constructor(
    readonly limit: number,
    readonly windowMs: number = 60_000,
  ) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`rate limit must be a positive integer (got ${limit})`);
  }

  /** Takes a slot at `now` if one is free; otherwise says how long until the oldest expires. */
  tryAcquire(now: number): { ok: true } | { ok: false; retryAfterMs: number } {
    while (this.#sent.length > 0 && this.#sent[0]! <= now - this.windowMs) this.#sent.shift();
    if (this.#sent.length >= this.limit) {
      return { ok: false, retryAfterMs: Math.max(1, this.#sent[0]! + this.windowMs - now) };
    }
    this.#sent.push(now);
    return { ok: true };
  }
}

/** The result a channel returns instead of sending when its window is full. */
export function rateLimited(kind: string, limit: number, retryAfterMs: number) {
  return {
    ok: false as const,
    retryable: true,
    retryAfterMs,
    error:
      `${kind} 发送频率超过每分钟 ${limit} 条，已暂缓发送，${Math.ceil(retryAfterMs / 1000)} 秒后可重试 / ` +
      `${kind} rate limit of ${limit} messages a minute reached; not sent, retry in ${Math.ceil(retryAfterMs / 1000)} s`,
  };
}
