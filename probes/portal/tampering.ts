/**
 * Signs of tampering (DOMAIN.md §7): pages that should not change compared with their hash
 * baseline, links hidden from visitors (the usual SEO-spam injection), scripts from hosts the
 * site does not use or obfuscated inline scripts, and forbidden keywords (gambling, porn).
 */
import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { HTMLElement } from 'node-html-parser';
import type { ProbeDescriptor, ProbeResult } from '../types.js';
import { fetchPage } from './page.js';

export const DEFAULT_FORBIDDEN = [
  '博彩',
  '赌博',
  '六合彩',
  '时时彩',
  '百家乐',
  '棋牌',
  '彩票网',
  '色情',
  '成人视频',
  '代孕',
  '发票代开',
  '办证',
];

const HIDDEN_STYLE =
  /display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0|(?:left|top|text-indent)\s*:\s*-\d{3,}|height\s*:\s*0[^.]|opacity\s*:\s*0(?:\.0+)?(?:;|$)/i;
const SUSPICIOUS_INLINE =
  /\beval\s*\(|document\.write\s*\(|String\.fromCharCode|unescape\s*\(|atob\s*\(|\\x[0-9a-f]{2}\\x/i;

function isHidden(element: HTMLElement): boolean {
  for (let e: HTMLElement | null = element; e?.tagName; e = e.parentNode) {
    if (HIDDEN_STYLE.test(e.getAttribute('style') ?? '') || e.hasAttribute('hidden')) return true;
  }
  return false;
}

export function findHiddenLinks(root: HTMLElement): string[] {
  return root
    .querySelectorAll('a[href]')
    .filter(isHidden)
    .map((a) => a.getAttribute('href')!);
}

export function findInjectedScripts(root: HTMLElement, pageUrl: string, allowedHosts: string[]): string[] {
  const own = new URL(pageUrl).host;
  const out: string[] = [];
  for (const script of root.querySelectorAll('script')) {
    const src = script.getAttribute('src');
    if (src) {
      const host = new URL(src, pageUrl).host;
      if (host !== own && !allowedHosts.includes(host)) out.push(src);
    } else if (SUSPICIOUS_INLINE.test(script.text)) {
      out.push(`inline: ${script.text.trim().slice(0, 80)}`);
    }
  }
  return out;
}

interface Options {
  pages: { url: string; sha256?: string }[];
  allowedScriptHosts?: string[];
  forbiddenKeywords?: string[];
  ca?: string;
  connectTo?: string;
  timeoutSeconds?: number;
}

export const tampering: ProbeDescriptor<Options> = {
  id: 'portal.tampering',
  category: 'portal',
  title: '网页防篡改：静态页面哈希、隐藏链接、注入脚本、违规关键词',
  remediation:
    '立即核查被改动的页面与服务器文件，删除暗链和恶意脚本，排查入侵途径（弱口令、后台漏洞、上传点），修复后更新页面哈希基线，并按规定报告网信部门。',
  clause: 'GB/T 22239-2019 8.1.4.4 f)；《政府网站与政务新媒体检查指标》：网页被篡改、存在恶意代码',
  options: Type.Object({
    pages: Type.Array(
      Type.Object(
        {
          url: Type.String({ pattern: '^https?://\\S+$' }),
          sha256: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
        },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
    allowedScriptHosts: Type.Array(Type.String(), { default: [] }),
    forbiddenKeywords: Type.Array(Type.String({ minLength: 1 }), { default: DEFAULT_FORBIDDEN }),
    ca: Type.Optional(Type.String()),
    connectTo: Type.Optional(Type.String()),
    timeoutSeconds: Type.Number({ exclusiveMinimum: 0, default: 15 }),
  }),
  async run({ options, now }) {
    const results: ProbeResult[] = [];
    for (const { url, sha256 } of options.pages) {
      const page = await fetchPage(url, options, now).catch((e: Error) => e);
      if (page instanceof Error) {
        results.push({ status: 'UNKNOWN', target: url, summary: `无法获取页面：${page.message}` });
        continue;
      }
      const hash = createHash('sha256').update(page.html).digest('hex');
      const findings: string[] = [];
      const details: Record<string, unknown> = { sha256: hash };
      if (sha256 && sha256 !== hash) {
        findings.push('页面内容与基线哈希不一致');
        details.baseline = sha256;
      }
      const hidden = findHiddenLinks(page.root);
      if (hidden.length > 0) {
        findings.push(`隐藏链接 ${hidden.length} 个（${hidden.slice(0, 3).join('、')}）`);
        details.hiddenLinks = hidden;
      }
      const scripts = findInjectedScripts(page.root, page.url, options.allowedScriptHosts ?? []);
      if (scripts.length > 0) {
        findings.push(`可疑脚本 ${scripts.length} 个（${scripts.slice(0, 3).join('、')}）`);
        details.scripts = scripts;
      }
      const text = page.root.text;
      const keywords = (options.forbiddenKeywords ?? DEFAULT_FORBIDDEN).filter(
        (k) => text.includes(k) || page.html.includes(k),
      );
      if (keywords.length > 0) {
        findings.push(`违规关键词：${keywords.join('、')}`);
        details.keywords = keywords;
      }
      results.push(
        findings.length > 0
          ? { status: 'CRIT', target: url, summary: `页面疑似被篡改：${findings.join('；')}`, details }
          : { status: 'OK', target: url, summary: '页面未发现篡改迹象', details },
      );
    }
    return results;
  },
};
