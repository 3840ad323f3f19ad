import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getAgentByName } from './store/agents.js';
import { listCheckResults } from './store/check-results.js';
import {
  counter,
  gauge,
  payload,
  promtoolCheck,
  T0,
  type TestCollector,
  testCollector,
} from './test-helper.js';

let c: TestCollector;

beforeEach(async () => {
  c = await testCollector();
});
afterEach(async () => {
  await c.close();
});

/** /metrics answers 200 and passes promtool, lint included. */
async function expectValidMetrics(): Promise<string> {
  const text = await c.metrics();
  const check = promtoolCheck(text);
  expect(check.output, text).toBe('');
  expect(check.status).toBe(0);
  return text;
}

function check(seq: number, status: 'OK' | 'WARN' | 'CRIT' | 'UNKNOWN' = 'OK') {
  return {
    seq,
    check: 'health.disk',
    target: '/',
    status,
    summary: `磁盘检查 ${seq}`,
    observedAt: '2025-03-03T07:59:00+08:00',
  };
}

describe('POST /api/v1/push', () => {
  it('accepts a push, acks its check results after storing them, and exposes the metrics with a host label', async () => {
    const token = await c.enroll('web-01');
    const res = await c.push(
      token,
      payload(
        'web-01',
        [
          gauge('node_load1', [[{}, 0.5]]),
          counter('node_network_receive_bytes_total', [
            [{ device: 'eth0' }, 1000],
            [{ device: 'lo' }, 20],
          ]),
        ],
        [check(2), check(1, 'CRIT')],
        { inventory: { hostname: 'web-01.example', os: 'Kylin V10', collectedAt: '2025-03-03T08:00:00Z' } },
      ),
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ acked: [1, 2] });

    const agent = await getAgentByName(c.store, 'web-01');
    const rows = await listCheckResults(c.store, agent!.id);
    expect(rows.map((r) => [r.seq, r.status, r.observed_at])).toEqual([
      [1, 'CRIT', '2025-03-02T23:59:00.000Z'],
      [2, 'OK', '2025-03-02T23:59:00.000Z'],
    ]);
    expect(agent!.inventory?.os).toBe('Kylin V10');
    expect(agent!.intervalSeconds).toBe(15);

    const text = await expectValidMetrics();
    expect(text).toContain('# TYPE node_load1 gauge\nnode_load1{host="web-01"} 0.5\n');
    expect(text).toContain(
      'node_network_receive_bytes_total{host="web-01",device="eth0"} 1000\nnode_network_receive_bytes_total{host="web-01",device="lo"} 20\n',
    );
    expect(text).toContain('creditops_agent_up{host="web-01"} 1\n');
    expect(text).toContain(`creditops_agent_last_push_timestamp_seconds{host="web-01"} ${T0 / 1000}\n`);
    expect(text).toContain('creditops_collector_pushes_total{result="ok"} 1\n');
    expect(text).toContain('creditops_check_results_received_total 2\n');
    expect(text).toContain('creditops_build_info{version="0.0.0-test"} 1\n');
    expect(text).toMatch(/\nprocess_resident_memory_bytes \d+\n/);
    expect(text).toMatch(/\nprocess_cpu_seconds_total [\d.e-]+\n/);
    expect(text).toMatch(/\nprocess_start_time_seconds \d+(\.\d+)?\n/);
  });

  it('merges one family from several agents under a single HELP/TYPE, lines together', async () => {
    const a = await c.enroll('db-01');
    const b = await c.enroll('db-02');
    expect(
      (await c.push(a, payload('db-01', [gauge('pg_up', [[{}, 1]]), gauge('node_load1', [[{}, 1]])])))
        .statusCode,
    ).toBe(200);
    expect(
      (await c.push(b, payload('db-02', [gauge('node_load1', [[{}, 2]]), gauge('pg_up', [[{}, 0]])])))
        .statusCode,
    ).toBe(200);
    const text = await expectValidMetrics();
    expect(text.match(/# TYPE pg_up /g)).toHaveLength(1);
    expect(text).toContain('# TYPE pg_up gauge\npg_up{host="db-01"} 1\npg_up{host="db-02"} 0\n');
    expect(text).toContain(
      '# TYPE node_load1 gauge\nnode_load1{host="db-01"} 1\nnode_load1{host="db-02"} 2\n',
    );
  });

  it('replaces an agent’s previous metrics with its latest push', async () => {
    const token = await c.enroll('web-01');
    await c.push(token, payload('web-01', [gauge('old_metric', [[{}, 1]])]));
    await c.push(token, payload('web-01', [gauge('new_metric', [[{}, 2]])]));
    const text = await expectValidMetrics();
    expect(text).not.toContain('old_metric');
    expect(text).toContain('new_metric{host="web-01"} 2');
  });

  it('accepts label values with quotes, newlines and backslashes and escapes them in /metrics', async () => {
    const token = await c.enroll('file-01');
    const value = 'C:\\data\\"报表"\nline2';
    const res = await c.push(
      token,
      payload('file-01', [gauge('node_filesystem_avail_bytes', [[{ mountpoint: value }, 42]])]),
    );
    expect(res.statusCode, res.body).toBe(200);
    const text = await expectValidMetrics();
    expect(text).toContain(
      'node_filesystem_avail_bytes{host="file-01",mountpoint="C:\\\\data\\\\\\"报表\\"\\nline2"} 42\n',
    );
  });

  it('acks the same seq again on replay but stores it once', async () => {
    const token = await c.enroll('web-01');
    const first = await c.push(token, payload('web-01', [], [check(7)]));
    expect(first.json()).toEqual({ acked: [7] });
    const replay = await c.push(
      token,
      payload('web-01', [], [{ ...check(7), summary: 'replayed' }, check(8)]),
    );
    expect(replay.statusCode).toBe(200);
    expect(replay.json()).toEqual({ acked: [7, 8] });
    const agent = await getAgentByName(c.store, 'web-01');
    const rows = await listCheckResults(c.store, agent!.id);
    expect(rows.map((r) => [r.seq, r.summary])).toEqual([
      [7, '磁盘检查 7'],
      [8, '磁盘检查 8'],
    ]);
    const text = await expectValidMetrics();
    expect(text).toContain('creditops_check_results_received_total 3\n');
    expect(text).toContain('creditops_check_results_stored_total 2\n');
  });

  describe('refuses bad pushes with a precise message and keeps /metrics valid', () => {
    let token: string;
    beforeEach(async () => {
      token = await c.enroll('web-01');
      expect((await c.push(token, payload('web-01', [gauge('node_load1', [[{}, 1]])]))).statusCode).toBe(200);
    });
    afterEach(async () => {
      const text = await expectValidMetrics();
      expect(text).toContain('node_load1{host="web-01"} 1\n');
    });

    it('no Authorization header → 401 missing_token', async () => {
      const res = await c.push(null, payload('web-01'));
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({
        error: 'missing_token',
        message: expect.stringContaining('Authorization header is missing'),
      });
      expect(res.headers['www-authenticate']).toContain('Bearer');
    });

    it('not Bearer → 401 invalid_authorization naming the scheme', async () => {
      const res = await c.push(null, payload('web-01'), {
        authorization: `Basic ${Buffer.from('a:b').toString('base64')}`,
      });
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({
        error: 'invalid_authorization',
        message: expect.stringContaining('"Basic"'),
      });
    });

    it('unknown token → 401 unknown_token', async () => {
      for (const bad of [
        'cro_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
        `${token.slice(0, -2)}xx`,
        'hunter2',
      ]) {
        const res = await c.push(bad, payload('web-01'));
        expect(res.statusCode).toBe(401);
        expect(res.json()).toMatchObject({ error: 'unknown_token' });
      }
    });

    it('wrong content type → 415', async () => {
      const res = await c.push(token, JSON.stringify(payload('web-01')), { 'content-type': 'text/plain' });
      expect(res.statusCode).toBe(415);
      expect(res.json()).toMatchObject({
        error: 'unsupported_media_type',
        message: expect.stringContaining('text/plain'),
      });
    });

    it('invalid JSON → 400 with line, column and position', async () => {
      const res = await c.push(token, '{"protocol": 1,\n "agent": x}');
      expect(res.statusCode).toBe(400);
      const body = res.json();
      expect(body.error).toBe('invalid_json');
      expect(body.message).toContain('line 2, column 11 (position 26)');
      expect(body.location).toEqual({ position: 26, line: 2, column: 11, expected: 'a value' });
    });

    it('wrong schema → 400 listing each error with its JSON path', async () => {
      const bad = {
        ...payload('web-01'),
        protocol: 2,
        families: [{ name: '1bad', help: '', type: 'summary', samples: [] }],
      };
      const res = await c.push(token, bad);
      expect(res.statusCode).toBe(400);
      const body = res.json();
      expect(body.error).toBe('invalid_payload');
      const paths = body.errors.map((e: { path: string }) => e.path);
      expect(paths).toEqual(expect.arrayContaining(['/protocol', '/families/0/name', '/families/0/type']));
      expect(body.message).toContain('/families/0/name');
    });

    it('oversized body → 413 naming the limit', async () => {
      const small = await testCollector({ bodyLimitBytes: 2048 });
      try {
        const t = await small.enroll('web-01');
        const big = payload('web-01', [gauge('big', [[{ pad: 'x'.repeat(4000) }, 1]])]);
        const res = await small.push(t, big);
        expect(res.statusCode).toBe(413);
        expect(res.json()).toMatchObject({
          error: 'body_too_large',
          message: expect.stringContaining('2048 bytes (2 KiB'),
        });
        const text = await small.metrics();
        expect(promtoolCheck(text).status).toBe(0);
        expect(text).toContain('creditops_collector_pushes_total{result="too_large"} 1\n');
      } finally {
        await small.close();
      }
      const res = await c.push(
        token,
        payload('web-01', [gauge('node_load1', [[{}, 1]]), gauge('big', [[{ pad: 'x'.repeat(4000) }, 1]])]),
      );
      expect(res.statusCode).toBe(200);
    });

    it('agent name different from the enrolled one → 403', async () => {
      const res = await c.push(token, payload('web-02'));
      expect(res.statusCode).toBe(403);
      expect(res.json().message).toContain('belongs to agent "web-01"');
    });

    it('duplicate series → 400 naming the family', async () => {
      const res = await c.push(
        token,
        payload('web-01', [
          gauge('dup_metric', [
            [{ a: '1' }, 1],
            [{ a: '1' }, 2],
          ]),
        ]),
      );
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({
        error: 'invalid_metrics',
        message: expect.stringContaining('"dup_metric"'),
      });
      expect(res.json().problems[0]).toMatchObject({ kind: 'duplicate_series', family: 'dup_metric' });
    });

    it('an empty label value is the same series as no label → duplicate', async () => {
      const res = await c.push(
        token,
        payload('web-01', [
          gauge('dup_metric', [
            [{ a: '' }, 1],
            [{}, 2],
          ]),
        ]),
      );
      expect(res.statusCode).toBe(400);
      expect(res.json().problems[0].kind).toBe('duplicate_series');
    });

    it('the reserved host label → 400', async () => {
      const res = await c.push(token, payload('web-01', [gauge('hosty', [[{ host: 'spoof' }, 1]])]));
      expect(res.statusCode).toBe(400);
      expect(res.json().problems[0]).toMatchObject({ kind: 'reserved_label', family: 'hosty' });
    });

    it('a negative counter → 400', async () => {
      const res = await c.push(token, payload('web-01', [counter('neg_total', [[{}, -1]])]));
      expect(res.statusCode).toBe(400);
      expect(res.json().problems[0]).toMatchObject({ kind: 'negative_counter', family: 'neg_total' });
    });

    it('a family reserved for the collector → 400; a process family of the same type is merged', async () => {
      const res = await c.push(token, payload('web-01', [gauge('creditops_agent_up', [[{}, 1]])]));
      expect(res.statusCode).toBe(400);
      expect(res.json().problems[0]).toMatchObject({ kind: 'reserved_family', family: 'creditops_agent_up' });
      const ok = await c.push(
        token,
        payload('web-01', [gauge('node_load1', [[{}, 1]]), counter('process_cpu_seconds_total', [[{}, 3]])]),
      );
      expect(ok.statusCode).toBe(200);
      const text = await c.metrics();
      expect(text.match(/# TYPE process_cpu_seconds_total /g)).toHaveLength(1);
      expect(text).toContain('process_cpu_seconds_total{host="web-01"} 3\n');
    });

    it('the same name as counter from one agent and gauge from another → second refused 409', async () => {
      const b = await c.enroll('web-02');
      expect(
        (
          await c.push(
            token,
            payload('web-01', [gauge('node_load1', [[{}, 1]]), counter('jobs_total', [[{}, 5]])]),
          )
        ).statusCode,
      ).toBe(200);
      const res = await c.push(b, payload('web-02', [gauge('jobs_total', [[{}, 1]])]));
      expect(res.statusCode).toBe(409);
      const body = res.json();
      expect(body.error).toBe('metric_type_conflict');
      expect(body.message).toContain(
        '"jobs_total" is sent as gauge but is already exposed as counter (from agent "web-01")',
      );
      const text = await c.metrics();
      expect(text).toContain('# TYPE jobs_total counter\njobs_total{host="web-01"} 5\n');
      expect(text).not.toContain('host="web-02"} 1');
      expect(text).toContain('creditops_collector_pushes_total{result="conflict"} 1\n');
    });

    it('a second process pushing with the same token is refused; a restart is not', async () => {
      const at = (startedAt: string) =>
        payload('web-01', [gauge('node_load1', [[{}, 1]])], [], {
          agent: { name: 'web-01', version: '0.1.0', intervalSeconds: 15, startedAt },
        });
      expect((await c.push(token, at('2025-03-03T07:30:00Z'))).statusCode).toBe(200);
      const older = await c.push(token, at('2025-03-03T07:10:00Z'));
      expect(older.statusCode).toBe(409);
      expect(older.json()).toMatchObject({
        error: 'duplicate_agent',
        message: expect.stringContaining('its own name and token'),
      });
      expect((await c.push(token, at('2025-03-03T07:30:00Z'))).statusCode).toBe(200);
      expect((await c.push(token, at('2025-03-03T07:45:00Z'))).statusCode).toBe(200);
      // The newest process falls silent for longer than the staleness window: the other may go on.
      c.clock.ms += 46_000;
      expect((await c.push(token, at('2025-03-03T07:10:00Z'))).statusCode).toBe(200);
    });

    it('a push whose metrics are refused still stores and acks its check results', async () => {
      const b = await c.enroll('web-02');
      await c.push(
        token,
        payload('web-01', [gauge('node_load1', [[{}, 1]]), counter('jobs_total', [[{}, 5]])]),
      );
      const check = {
        seq: 7,
        check: 'agent.collector',
        target: 'cpu',
        status: 'CRIT' as const,
        summary: '采集器 cpu 失败',
        observedAt: '2025-03-03T08:00:00Z',
      };
      const res = await c.push(b, payload('web-02', [gauge('jobs_total', [[{}, 1]])], [check]));
      expect(res.statusCode).toBe(409);
      expect(res.json().acked).toEqual([7]);
      expect(res.json().message).toContain('its 1 check result(s) were stored');
    });
  });
});

describe('staleness', () => {
  it('sets creditops_agent_up to 0 after 3 silent intervals and drops the agent’s families', async () => {
    const a = await c.enroll('web-01');
    const b = await c.enroll('web-02');
    await c.enroll('never-pushed');
    await c.push(a, payload('web-01', [gauge('node_load1', [[{}, 1]])]));
    await c.push(b, payload('web-02', [gauge('node_load1', [[{}, 2]])]));

    c.clock.ms = T0 + 45_000; // exactly 3 intervals of 15 s: still up
    await c.push(b, payload('web-02', [gauge('node_load1', [[{}, 2]])]));
    let text = await expectValidMetrics();
    expect(text).toContain('creditops_agent_up{host="web-01"} 1\n');
    expect(text).toContain('node_load1{host="web-01"} 1\n');

    c.clock.ms = T0 + 46_000;
    text = await expectValidMetrics();
    expect(text).toContain('creditops_agent_up{host="web-01"} 0\n');
    expect(text).toContain('creditops_agent_up{host="web-02"} 1\n');
    expect(text).toContain('creditops_agent_up{host="never-pushed"} 0\n');
    expect(text).toContain(`creditops_agent_last_push_timestamp_seconds{host="web-01"} ${T0 / 1000}\n`);
    expect(text).not.toContain('node_load1{host="web-01"}');
    expect(text).toContain('node_load1{host="web-02"} 2\n');

    c.clock.ms = T0 + 200_000;
    text = await expectValidMetrics();
    expect(text).not.toContain('# TYPE node_load1');
  });

  it('lets a live agent use a family type once the agent that held another type went stale', async () => {
    const a = await c.enroll('web-01');
    const b = await c.enroll('web-02');
    await c.push(a, payload('web-01', [counter('jobs_total', [[{}, 1]])]));
    c.clock.ms = T0 + 60_000;
    const res = await c.push(b, payload('web-02', [gauge('jobs_total', [[{}, 1]])]));
    expect(res.statusCode).toBe(200);
    const back = await c.push(a, payload('web-01', [counter('jobs_total', [[{}, 2]])]));
    expect(back.statusCode).toBe(409);
    const text = await c.metrics();
    expect(text).toContain('# TYPE jobs_total gauge\njobs_total{host="web-02"} 1\n');
    // Valid; promtool's only remark is the naming lint this test provokes on purpose.
    expect(promtoolCheck(text)).toEqual({
      status: 3,
      output: 'jobs_total non-counter metrics should not have "_total" suffix\n',
    });
  });
});

describe('tokens', () => {
  it('stores only a hash of the token: the raw token is nowhere in the database files', async () => {
    const token = await c.enroll('web-01');
    await c.push(token, payload('web-01'));
    const files = readdirSync(c.dataDir).filter((f) => f.startsWith('collector.sqlite'));
    expect(files.length).toBeGreaterThan(0);
    const secret = token.slice(4);
    for (const f of files) {
      const bytes = readFileSync(join(c.dataDir, f));
      expect(bytes.includes(Buffer.from(secret)), f).toBe(false);
      expect(bytes.includes(Buffer.from(secret.slice(8))), f).toBe(false);
    }
  });
});

describe('other routes', () => {
  it('GET /api/v1/sd lists agents that advertise metricsAddress', async () => {
    const a = await c.enroll('web-01');
    const b = await c.enroll('web-02');
    await c.enroll('web-03');
    const inv = (metricsAddress: string) => ({
      hostname: 'h',
      collectedAt: '2025-03-03T08:00:00Z',
      metricsAddress,
    });
    await c.push(a, payload('web-01', [], [], { inventory: inv('10.0.0.5:9471') }));
    await c.push(b, payload('web-02', [], [], { inventory: inv('https://0.0.0.0:9471/metrics') }));
    const res = await c.app.inject({ method: 'GET', url: '/api/v1/sd' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual([
      { targets: ['10.0.0.5:9471'], labels: { __meta_creditops_agent_name: 'web-01', host: 'web-01' } },
      {
        targets: ['127.0.0.1:9471'],
        labels: {
          __meta_creditops_agent_name: 'web-02',
          host: 'web-02',
          __scheme__: 'https',
          __metrics_path__: '/metrics',
        },
      },
    ]);
  });

  it('GET /healthz answers 200 while the store is reachable', async () => {
    const res = await c.app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('GET / lists agents in Chinese with their state, escaped', async () => {
    const a = await c.enroll('web-01');
    await c.enroll('db-01');
    await c.push(
      a,
      payload('web-01', [], [], { inventory: { hostname: '<script>', collectedAt: '2025-03-03T08:00:00Z' } }),
    );
    const res = await c.app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain('<html lang="zh-CN">');
    expect(res.body).toMatch(/<td>web-01<\/td><td>在线<\/td>/);
    expect(res.body).toMatch(/<td>db-01<\/td><td>从未上报<\/td>/);
    expect(res.body).toContain('&lt;script&gt;');
    expect(res.body).not.toContain('<script>');
  });

  it('unknown routes answer a JSON 404', async () => {
    const res = await c.app.inject({ method: 'GET', url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: 'not_found' });
  });

  it('an empty collector exposes lint-clean metrics', async () => {
    await expectValidMetrics();
  });
});

describe('when the store fails', () => {
  it('answers 503 to pushes (the agent keeps its results) and to /healthz', async () => {
    const token = await c.enroll('web-01');
    await c.store.close();
    const res = await c.push(token, payload('web-01', [], [check(1)]));
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({ error: 'store_unavailable' });
    const health = await c.app.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(503);
  });
});
