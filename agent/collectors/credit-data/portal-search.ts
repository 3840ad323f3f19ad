/**
 * Looks up withdrawn records (repaired or past their publicity period) on the portal's public
 * search page: the publicity table may be clean while the portal still shows a cached or
 * separately indexed copy. A record counts as still found when the search page answers 200 and its
 * body contains the decision number.
 */

export interface PortalSearchOptions {
  /** e.g. `https://credit.example.gov.cn/xzcf/search?keyword={decisionNo}` */
  urlTemplate: string;
  timeoutSeconds: number;
  /** At most this many look-ups per dataset and cycle (the most recent withdrawals first). */
  maxLookups: number;
}

export interface Withdrawn {
  decisionNo: string;
  department: string;
  reason: string;
}

export interface PortalSearchResult {
  checked: number;
  found: Withdrawn[];
  errors: { decisionNo: string; error: string }[];
}

export type Fetch = typeof fetch;

export async function searchPortal(
  items: readonly Withdrawn[],
  options: PortalSearchOptions,
  fetchImpl: Fetch,
): Promise<PortalSearchResult> {
  const result: PortalSearchResult = { checked: 0, found: [], errors: [] };
  // One look-up at a time: the portal is a public site, not something to load-test every cycle.
  for (const item of items.slice(0, options.maxLookups)) {
    const url = options.urlTemplate.replaceAll('{decisionNo}', encodeURIComponent(item.decisionNo));
    result.checked++;
    try {
      const response = await fetchImpl(url, {
        signal: AbortSignal.timeout(options.timeoutSeconds * 1000),
        headers: { 'user-agent': 'creditops-agent (credit repair check)' },
      });
      const body = await response.text();
      if (response.status !== 200) {
        result.errors.push({ decisionNo: item.decisionNo, error: `HTTP ${response.status}` });
      } else if (body.includes(item.decisionNo)) {
        result.found.push(item);
      }
    } catch (error) {
      result.errors.push({
        decisionNo: item.decisionNo,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return result;
}
