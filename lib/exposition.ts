import type { Labels, MetricFamily } from './metrics.js';

/** Prometheus text exposition format 0.0.4. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

export function formatLabels(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${escapeLabelValue(labels[k] ?? '')}"`).join(',')}}`;
}

/**
 * Writes families in order, one HELP/TYPE each, with a family's samples kept together. Samples
 * whose label set repeats within a family are dropped (the first wins): Prometheus rejects the
 * whole scrape on a duplicate series.
 */
export function formatExposition(families: Iterable<MetricFamily>): string {
  const out: string[] = [];
  for (const family of families) {
    if (family.samples.length === 0) continue;
    out.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
    out.push(`# TYPE ${family.name} ${family.type}`);
    const seen = new Set<string>();
    for (const sample of family.samples) {
      const labels = formatLabels(sample.labels);
      if (seen.has(labels)) continue;
      seen.add(labels);
      out.push(`${family.name}${labels} ${formatValue(sample.value)}`);
    }
  }
  out.push('');
  return out.join('\n');
}
