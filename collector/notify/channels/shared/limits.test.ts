import { describe, expect, it } from 'vitest';
import { SlidingWindow } from './rate-window.js';
import { containsLink, prepareSmsParams, smsParts, stripLinks } from './sms-text.js';
import { charCount, TRUNCATION_MARKER, truncateUtf8, utf8Bytes } from './text-limits.js';

describe('truncateUtf8', () => {
  it('leaves text that fits alone', () => {
    expect(truncateUtf8('磁盘将满', 12)).toEqual({ text: '磁盘将满', truncated: false });
  });

  it('never splits a 3-byte character or a 4-byte emoji', () => {
    const marker = '…';
    for (let max = 4; max <= 20; max++) {
      const { text } = truncateUtf8('a磁😀盘b将😀满', max, marker);
      expect(utf8Bytes(text)).toBeLessThanOrEqual(max);
      expect(text.endsWith(marker)).toBe(true);
      expect(Buffer.from(text, 'utf8').toString('utf8')).toBe(text);
      expect(text).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    }
  });

  it('uses the bilingual marker by default', () => {
    const { text, truncated } = truncateUtf8('告'.repeat(1000), 2048);
    expect(truncated).toBe(true);
    expect(text.endsWith(TRUNCATION_MARKER)).toBe(true);
  });
});

describe('SMS rules', () => {
  it.each([
    [1, 1],
    [70, 1],
    [71, 2],
    [134, 2],
    [135, 3],
    [500, 8],
  ])('%i characters are billed as %i part(s)', (chars, parts) => {
    expect(smsParts(chars)).toBe(parts);
  });

  it.each([
    ['详见 https://ops.example.gov.cn/t/1', true],
    ['访问 www.example.com 查看', true],
    ['登录 credit.example.gov.cn/admin', true],
    ['db01 磁盘剩余 3.5%，版本 1.2.3', false],
    ['主机 db01.internal 不可达', false],
  ])('link in %j: %s', (text, found) => {
    expect(containsLink(text)).toBe(found);
  });

  it('strips links and the blanks they leave', () => {
    expect(stripLinks('详见 https://ops.example.gov.cn/t/1 处理')).toBe('详见 处理');
  });

  it('counts an emoji once, as providers do', () => {
    expect(charCount('告警😀')).toBe(3);
  });

  it('refuses when the fixed template text alone is too long', () => {
    const result = prepareSmsParams(
      { a: 'x' },
      { links: 'strip', maxChars: 10, signature: '【签名】', render: () => '固定文字'.repeat(3) },
    );
    expect(result).toMatchObject({ ok: false });
  });
});

describe('SlidingWindow', () => {
  it('allows the limit within any 60 s and tells when the next slot frees', () => {
    const w = new SlidingWindow(3);
    expect(w.tryAcquire(0)).toEqual({ ok: true });
    expect(w.tryAcquire(10_000)).toEqual({ ok: true });
    expect(w.tryAcquire(20_000)).toEqual({ ok: true });
    expect(w.tryAcquire(30_000)).toEqual({ ok: false, retryAfterMs: 30_000 });
    expect(w.tryAcquire(60_000)).toEqual({ ok: true }); // the send at 0 has left the window
    expect(w.tryAcquire(60_001)).toEqual({ ok: false, retryAfterMs: 9_999 });
  });
});
