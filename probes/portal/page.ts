/** Fetching and reading portal pages: the HTTP client of the endpoint probe, a real HTML parser, dates in the forms Chinese government sites print them. */
import { type HTMLElement, parse } from 'node-html-parser';
import { follow, type HttpResponseFacts } from '../endpoint/http.js';

export interface PageFetch {
  ca?: string;
  connectTo?: string;
  timeoutSeconds?: number;
}

export interface Page {
  url: string;
  status: number;
  html: string;
  root: HTMLElement;
  response: HttpResponseFacts;
}

export async function fetchPage(url: string, options: PageFetch, now: () => number): Promise<Page> {
  const outcome = await follow(new URL(url), {
    ...(options.ca ? { ca: options.ca } : {}),
    ...(options.connectTo ? { connectTo: options.connectTo } : {}),
    timeoutMs: (options.timeoutSeconds ?? 15) * 1000,
    now,
    maxRedirects: 10,
    followRedirects: true,
  });
  if (outcome.kind === 'error')
    throw new Error(`${url}: ${(outcome.error as Error).message ?? String(outcome.error)}`);
  if (outcome.kind !== 'response')
    throw new Error(`${url}: ${outcome.kind === 'loop' ? '重定向循环' : '重定向过多'}`);
  const r = outcome.response;
  return { url: r.url, status: r.status, html: r.body, root: parse(r.body), response: r };
}

const DATE_RE = /(20\d{2}|19\d{2})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?/g;

/** Every date in the text (2024-03-01, 2024/3/1, 2024.03.01, 2024年3月1日), as UTC midnight ms. */
export function datesIn(text: string): number[] {
  const out: number[] = [];
  for (const m of text.matchAll(DATE_RE)) {
    const y = Number(m[1]);
    const mo = Number(m[2]);
    const d = Number(m[3]);
    if (mo < 1 || mo > 12 || d < 1 || d > 31) continue;
    out.push(Date.UTC(y, mo - 1, d));
  }
  return out;
}

/** The newest date among the elements the selector picks, ignoring dates in the future (a typo, not an update). */
export function newestDate(
  root: HTMLElement,
  selector: string,
  now: number,
): { newest: number | undefined; items: number } {
  const elements = root.querySelectorAll(selector);
  const dates = elements.flatMap((e) => datesIn(e.text)).filter((d) => d <= now + 86_400_000);
  return { newest: dates.length > 0 ? Math.max(...dates) : undefined, items: elements.length };
}

export const DAY_MS = 86_400_000;

export function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
