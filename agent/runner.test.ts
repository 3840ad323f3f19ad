import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Collector } from './collectors/types.js';
import { CollectorRunner } from './runner.js';

const log = pino({ level: 'silent' });
const roots = { procRoot: '/proc', sysRoot: '/sys', rootfs: '/' };

const ok: Collector = {
  async collect(ctx) {
    ctx.registry.gauge('ok_value', 'x').value(1);
  },
};
const failing: Collector = {
  async collect(ctx) {
    ctx.registry.gauge('half_written', 'x').value(1);
    throw new Error('cannot read /proc/thing');
  },
};

function hanging(): Collector & { calls: number; release: () => void } {
  let release = () => {};
  const c = {
    calls: 0,
    release: () => release(),
    collect: async () => {
      c.calls++;
      await new Promise<void>((r) => {
        release = r;
      });
    },
  };
  return c;
}

describe('CollectorRunner', () => {
  it('one failing collector does not fail the others, and its partial output is dropped', async () => {
    const runner = new CollectorRunner({
      collectors: [
        { name: 'ok', intervalMs: 1000, timeoutMs: 500, collector: ok },
        { name: 'failing', intervalMs: 1000, timeoutMs: 500, collector: failing },
      ],
      roots,
      log,
    });
    await runner.runAll();
    const names = runner.families().map((f) => f.name);
    expect(names).toContain('ok_value');
    expect(names).not.toContain('half_written');
    const success = runner.families().find((f) => f.name === 'creditops_collector_success')!;
    expect(success.samples).toEqual([
      { labels: { collector: 'ok' }, value: 1 },
      { labels: { collector: 'failing' }, value: 0 },
    ]);
    expect(runner.state('failing')?.error).toBe('cannot read /proc/thing');
  });

  it('abandons a run at its timeout and does not start another while it is stuck', async () => {
    const stuck = hanging();
    const runner = new CollectorRunner({
      collectors: [
        { name: 'stuck', intervalMs: 1000, timeoutMs: 50, collector: stuck },
        { name: 'ok', intervalMs: 1000, timeoutMs: 50, collector: ok },
      ],
      roots,
      log,
    });
    for (let i = 0; i < 5; i++) await runner.runAll();
    expect(stuck.calls).toBe(1);
    expect(runner.state('stuck')).toMatchObject({ success: false, inFlight: true, timeouts: 1 });
    expect(runner.state('stuck')?.error).toBe('previous run has not returned yet');
    expect(runner.state('ok')).toMatchObject({ success: true, runs: 5 });
    stuck.release();
    await new Promise((r) => setImmediate(r));
    expect(runner.state('stuck')?.inFlight).toBe(false);
    await runner.runAll();
    expect(stuck.calls).toBe(2);
  });

  it('reports flips of success and passes verdicts of runs that finished in time', async () => {
    let fail = false;
    const flaky: Collector = {
      async collect(ctx) {
        ctx.report({ check: 'flaky.thing', status: 'WARN', summary: '告警' });
        if (fail) throw new Error('boom');
      },
    };
    const flips: boolean[] = [];
    const verdicts: string[] = [];
    const runner = new CollectorRunner({
      collectors: [{ name: 'flaky', intervalMs: 1000, timeoutMs: 500, collector: flaky }],
      roots,
      log,
      onStatusChange: (s) => flips.push(s.success),
      onVerdicts: (v) => verdicts.push(...v.map((x) => x.check)),
    });
    await runner.runAll();
    await runner.runAll();
    fail = true;
    await runner.runAll();
    fail = false;
    await runner.runAll();
    expect(flips).toEqual([true, false, true]);
    expect(verdicts).toEqual(['flaky.thing', 'flaky.thing', 'flaky.thing']);
  });
});
