import { describe, expect, it } from 'vitest';
import { escapeLabelValue, formatExposition } from './exposition.js';
import { MetricNameError, MetricRegistry } from './metrics.js';

describe('formatExposition', () => {
  it('escapes label values and help, keeps a family together, drops repeated series', () => {
    const registry = new MetricRegistry();
    registry
      .gauge('x_bytes', 'Help with \\ and\nnewline.')
      .set({ path: 'C:\\dir "quoted"\nnext' }, 1)
      .set({ path: 'b' }, Number.NaN)
      .set({ path: 'b' }, 3);
    registry.counter('y_total', 'A counter.').value(Number.POSITIVE_INFINITY);
    expect(formatExposition(registry.collect())).toBe(
      [
        '# HELP x_bytes Help with \\\\ and\\nnewline.',
        '# TYPE x_bytes gauge',
        'x_bytes{path="C:\\\\dir \\"quoted\\"\\nnext"} 1',
        'x_bytes{path="b"} NaN',
        '# HELP y_total A counter.',
        '# TYPE y_total counter',
        'y_total +Inf',
        '',
      ].join('\n'),
    );
  });

  it('writes labels in the order the collector set them', () => {
    const registry = new MetricRegistry();
    registry.gauge('z', 'z').set({ b: '2', a: '1' }, 1);
    expect(formatExposition(registry.collect())).toBe('# HELP z z\n# TYPE z gauge\nz{b="2",a="1"} 1\n');
  });

  it('writes nothing for no samples', () => {
    expect(formatExposition([])).toBe('');
  });

  it('escapes backslash before quote', () => {
    expect(escapeLabelValue('\\"')).toBe('\\\\\\"');
  });
});

describe('MetricRegistry', () => {
  it('refuses bad names and a type clash at once', () => {
    const registry = new MetricRegistry();
    expect(() => registry.gauge('1bad', 'x')).toThrow(MetricNameError);
    expect(() => registry.gauge('ok', 'x').set({ 'bad-label': 'v' }, 1)).toThrow(
      /invalid label name "bad-label"/,
    );
    expect(() => registry.gauge('ok', 'x').set({ __name__: 'v' }, 1)).toThrow(/__/);
    registry.gauge('same', 'x');
    expect(() => registry.counter('same', 'x')).toThrow(/declared as gauge and as counter/);
  });
});
