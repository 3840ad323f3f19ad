import type { Labels, MetricFamily } from './metrics.js';

/** Prometheus text exposition format 0.0.4. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const HELP_ESCAPES = /[\\\n]/;
const LABEL_ESCAPES = /[\\\n"]/;

export function escapeHelp(text: string): string {
  if (!HELP_ESCAPES.test(text)) return text;
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function escapeLabelValue(value: string): string {
  // Almost no value needs escaping; testing first saves three replace() passes on each.
  if (!LABEL_ESCAPES.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

/**
 * `{a="1",b="2"}`, or '' without labels. Labels are written in the order the collector set them:
 * collectors set them in one fixed order, and sorting every sample's keys would cost more than
 * the rest of the formatting together.
 */
export function formatLabels(labels: Labels): string {
  let out = '';
  for (const key in labels) {
    out += `${out === '' ? '{' : ','}${key}="${escapeLabelValue(labels[key] ?? '')}"`;
  }
  return out === '' ? '' : `${out}}`;
}

/**
 * Writes families in order, one HELP/TYPE each, with a family's samples kept together. Samples
 * whose label set repeats within a family are dropped (the first wins): Prometheus rejects the
 * whole scrape on a duplicate series.
 */
export function formatExposition(families: Iterable<MetricFamily>): string {
  let out = '';
  for (const family of families) {
    if (family.samples.length === 0) continue;
    out += `# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} ${family.type}\n`;
    const seen = new Set<string>();
    for (const sample of family.samples) {
      const labels = formatLabels(sample.labels);
      if (seen.has(labels)) continue;
      seen.add(labels);
      out += `${family.name}${labels} ${formatValue(sample.value)}\n`;
    }
  }
  return out;
}
