import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { MetricRegistry } from '../lib/metrics.js';
import { Outbox } from './outbox.js';
import { VerdictRecorder } from './verdicts.js';

const log = pino({ level: 'silent' });
const result = (summary: string) => ({
  check: 'c',
  status: 'OK' as const,
  summary,
  observedAt: '2026-12-03T00:00:00Z',
});

describe('Outbox', () => {
  it('keeps unacknowledged results across a restart and keeps numbering', () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-'));
    const first = new Outbox({ dir, log });
    expect(first.enqueue(result('a')).seq).toBe(1);
    expect(first.enqueue(result('b')).seq).toBe(2);
    expect(first.enqueue(result('c')).seq).toBe(3);
    first.ack([1, 3, 99]);
    const second = new Outbox({ dir, log });
    expect(second.pending().map((r) => [r.seq, r.summary])).toEqual([[2, 'b']]);
    second.ack([2]);
    const third = new Outbox({ dir, log });
    expect(third.size).toBe(0);
    expect(third.enqueue(result('d')).seq).toBe(4);
  });

  it('survives a torn last line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-'));
    const outbox = new Outbox({ dir, log });
    outbox.enqueue(result('a'));
    appendFileSync(join(dir, 'results.jsonl'), '{"seq":2,"check":"c","sta');
    const reopened = new Outbox({ dir, log });
    expect(reopened.pending().map((r) => r.summary)).toEqual(['a']);
    expect(reopened.enqueue(result('b')).seq).toBe(2);
  });

  it('drops the oldest beyond its bound, and counts them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'outbox-'));
    const outbox = new Outbox({ dir, log, maxPending: 2 });
    for (const s of ['a', 'b', 'c']) outbox.enqueue(result(s));
    expect(outbox.pending().map((r) => r.summary)).toEqual(['b', 'c']);
    expect(outbox.dropped).toBe(1);
    expect(readFileSync(join(dir, 'results.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
  });
});

describe('VerdictRecorder', () => {
  it('records a result on change and at most every repeat interval while unchanged', () => {
    const dir = mkdtempSync(join(tmpdir(), 'verdicts-'));
    const outbox = new Outbox({ dir, log });
    const recorder = new VerdictRecorder(outbox, 300);
    const t0 = Date.parse('2026-12-03T00:00:00Z');
    const v = (status: 'OK' | 'CRIT') => [{ check: 'pg.conn', target: 'main', status, summary: status }];
    recorder.record(v('OK'), t0);
    recorder.record(v('OK'), t0 + 60_000);
    recorder.record(v('CRIT'), t0 + 120_000);
    recorder.record(v('CRIT'), t0 + 300_000);
    recorder.record(v('CRIT'), t0 + 420_000);
    expect(outbox.pending().map((r) => [r.status, r.observedAt])).toEqual([
      ['OK', '2026-12-03T00:00:00.000Z'],
      ['CRIT', '2026-12-03T00:02:00.000Z'],
      ['CRIT', '2026-12-03T00:07:00.000Z'],
    ]);
    const registry = new MetricRegistry();
    recorder.write(registry, t0 + 420_000);
    const status = registry.collect().find((f) => f.name === 'creditops_check_status')!;
    expect(status.samples).toEqual([{ labels: { check: 'pg.conn', target: 'main' }, value: 2 }]);
  });
});
