/** Length limits as the providers count them: UTF-8 bytes for chat robots, characters for SMS. */

const encoder = new TextEncoder();

export function utf8Bytes(text: string): number {
  return encoder.encode(text).length;
}

/** The marker appended to a shortened chat message. */
export const TRUNCATION_MARKER = '\n…（内容过长，已截断 / truncated）';

/**
 * Cuts `text` so that it plus `marker` fits in `maxBytes` UTF-8 bytes, never inside a character
 * (a surrogate pair, i.e. an emoji, is kept whole or dropped whole). Returns the text unchanged
 * when it fits.
 */
export function truncateUtf8(
  text: string,
  maxBytes: number,
  marker: string = TRUNCATION_MARKER,
): { text: string; truncated: boolean } {
  if (utf8Bytes(text) <= maxBytes) return { text, truncated: false };
  const budget = maxBytes - utf8Bytes(marker);
  if (budget < 0) throw new RangeError(`marker alone exceeds ${maxBytes} bytes`);
  let used = 0;
  let end = 0;
  for (const ch of text) {
    // Code points: a for…of over a string never splits a surrogate pair.
    const size = utf8Bytes(ch);
    if (used + size > budget) break;
    used += size;
    end += ch.length;
  }
  return { text: text.slice(0, end) + marker, truncated: true };
}

/** Characters as SMS providers count them: code points (an emoji counts once). */
export function charCount(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/** Cuts to at most `maxChars` code points, the last one being `…` when cut. */
export function truncateChars(text: string, maxChars: number): { text: string; truncated: boolean } {
  if (charCount(text) <= maxChars) return { text, truncated: false };
  const chars = Array.from(text).slice(0, Math.max(0, maxChars - 1));
  return { text: `${chars.join('')}…`, truncated: true };
}
