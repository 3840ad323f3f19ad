/**
 * The metric model shared by the agent (which produces families every cycle) and the collector
 * (which merges them). prom-client is built for long-lived instrumented metrics and cannot set a
 * counter to a value read from /proc, so collectors write "const metrics" into a registry made
 * fresh for each run, the way node_exporter's collectors do.
 */

export type MetricType = 'counter' | 'gauge' | 'untyped';

export type Labels = Record<string, string>;

export interface Sample {
  labels: Labels;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

export const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
export const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export class MetricNameError extends Error {}

// Names already found valid. Collectors use a few dozen names for thousands of samples a run, and
// a Set look-up costs a fraction of the regular expression. Capped, should names ever come from data.
const VALID_NAMES_CAP = 10_000;
const validMetricNames = new Set<string>();
const validLabelNames = new Set<string>();

export function assertMetricName(name: string): void {
  if (validMetricNames.has(name)) return;
  if (!METRIC_NAME_RE.test(name)) {
    throw new MetricNameError(`invalid metric name "${name}": must match ${METRIC_NAME_RE}`);
  }
  if (validMetricNames.size < VALID_NAMES_CAP) validMetricNames.add(name);
}

export function assertLabelName(name: string, metric: string): void {
  if (validLabelNames.has(name)) return;
  if (!LABEL_NAME_RE.test(name) || name.startsWith('__')) {
    throw new MetricNameError(
      `invalid label name "${name}" on metric "${metric}": must match ${LABEL_NAME_RE} and not start with "__"`,
    );
  }
  if (validLabelNames.size < VALID_NAMES_CAP) validLabelNames.add(name);
}

/** A family being filled by one collector run. */
export class FamilyWriter {
  constructor(readonly family: MetricFamily) {}

  set(labels: Labels, value: number): this {
    for (const key in labels) assertLabelName(key, this.family.name);
    this.family.samples.push({ labels, value });
    return this;
  }

  /** A sample without labels. */
  value(value: number): this {
    return this.set({}, value);
  }
}

/**
 * Collects the families one run produces. Declaring the same name twice with a different type or
 * help is a programmer error and throws at once.
 */
export class MetricRegistry {
  private readonly families = new Map<string, MetricFamily>();

  gauge(name: string, help: string): FamilyWriter {
    return this.declare(name, 'gauge', help);
  }

  counter(name: string, help: string): FamilyWriter {
    return this.declare(name, 'counter', help);
  }

  untyped(name: string, help: string): FamilyWriter {
    return this.declare(name, 'untyped', help);
  }

  declare(name: string, type: MetricType, help: string): FamilyWriter {
    assertMetricName(name);
    const existing = this.families.get(name);
    if (existing) {
      if (existing.type !== type) {
        throw new MetricNameError(`metric "${name}" declared as ${existing.type} and as ${type}`);
      }
      return new FamilyWriter(existing);
    }
    const family: MetricFamily = { name, help, type, samples: [] };
    this.families.set(name, family);
    return new FamilyWriter(family);
  }

  /** Families that received at least one sample, in declaration order. */
  collect(): MetricFamily[] {
    return [...this.families.values()].filter((f) => f.samples.length > 0);
  }
}
