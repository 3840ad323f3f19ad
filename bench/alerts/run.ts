/**
 * bench/alerts: the alerting path with real processes — a gauge pushed to the collector, Debian's
 * Prometheus (scrape and evaluation every second, `for: 1s`), Debian's Alertmanager
 * (deploy/alertmanager.yml with group_wait 1s), the collector (`creditops collector -c`, SQLite
 * with synchronous=FULL) and a real SMTP server (implicit TLS, generated CA) in this process.
 *
 * (a) Latency, per round: T0 = the push that makes the condition true; the mail is "accepted"
 *     when the SMTP server ends its DATA. Prometheus's own wait (scrape and evaluation
 *     alignment) is measured exactly: the alert's `activeAt` (the evaluation that first saw the
 *     condition) minus T0. The configured waits are then `for` and `group_wait`. Overhead =
 *     mail − activeAt − for − group_wait: what Prometheus's notifier, Alertmanager's dispatch,
 *     the webhook, the ticket transaction, the outbox and SMTP add. Target ≤ 1 s.
 * (b) Storm: 5,000 alerts (one host each) posted to Alertmanager's API within a minute. All must
 *     become tickets, and the receiver must get digests (outbox.groupWindowSeconds), not 5,000
 *     mails.
 *
 *   npm run bench:alerts -- [--rounds 3] [--storm 5000] [--window 10] [--sweep 10]
 *
 * Writes bench/results/alerts.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import {
  collectorSetup,
  enrollAgent,
  mailPolicy,
  pushGauges,
  startAlertmanager,
  startPrometheus,
  testSmtp,
  waitHealthy,
} from '../../test/helpers/alerting.js';
import { type Daemon, httpText, tempDir, waitFor } from '../../test/helpers/processes.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    storm: { type: 'string', default: '5000' },
    window: { type: 'string', default: '10' },
    sweep: { type: 'string', default: '10' },
  },
});
const ROUNDS = Number(values.rounds);
const STORM = Number(values.storm);
const WINDOW_S = Number(values.window);
/** collector.ticketSweepSeconds (deadline sweep, escalation, outbox retries); 10 is the default. */
const SWEEP_S = Number(values.sweep);
const FOR_S = 1;
const GROUP_WAIT_S = 1;
const INTERVAL_S = 1;
const HOST = 'bench-db-01';
const say = (s: string) => process.stderr.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ms = (n: number) => Math.round(n);

const dir = tempDir('bench-alerts');
const daemons: Daemon[] = [];
const smtp = await testSmtp(dir.path, 'implicit-tls');
await smtp.listen();
try {
  const collector = await collectorSetup(
    dir.path,
    mailPolicy(smtp, 'implicit-tls', `{ groupWindowSeconds: ${WINDOW_S} }`),
    [],
    SWEEP_S,
  );
  const token = enrollAgent(collector.configFile, HOST, join(dir.path, 'agent.token'));
  daemons.push(collector.start());
  await waitHealthy(collector.url, daemons);
  const conditions: Record<string, number> = Object.fromEntries(
    Array.from({ length: ROUNDS }, (_, i) => [`creditops_bench_condition_${i + 1}`, 0]),
  );
  const agentStartedAt = new Date().toISOString();
  const push = () => pushGauges(collector.url, token, HOST, conditions, agentStartedAt, 10);
  await push();
  const pusher = setInterval(() => void push().catch(() => {}), 1000);

  const am = await startAlertmanager(dir.path, collector, {
    groupWait: `${GROUP_WAIT_S}s`,
    groupInterval: '1s',
    repeatInterval: '4h',
  });
  daemons.push(am.daemon);
  const ruleFile = join(dir.path, 'bench.rules.yml');
  // One alert per round, each in its own Alertmanager group: a re-fired alert of a group that
  // still exists would be flushed on group_interval, not after group_wait.
  writeFileSync(
    ruleFile,
    [
      'groups:',
      '  - name: bench',
      '    rules:',
      ...Array.from({ length: ROUNDS }, (_, i) => [
        `      - alert: BenchCondition${i + 1}`,
        `        expr: creditops_bench_condition_${i + 1} == 1`,
        `        for: ${FOR_S}s`,
        '        labels: { severity: P1, kind: fault }',
        '        annotations:',
        `          summary: "主机 {{ $labels.host }} 压测条件 ${i + 1} 成立"`,
      ]).flat(),
      '',
    ].join('\n'),
  );
  const prom = await startPrometheus(dir.path, collector.port, am.port, ruleFile, `${INTERVAL_S}s`);
  daemons.push(prom.daemon);
  const db = new Database(join(dir.path, 'collector', 'collector.sqlite'), { readonly: true });
  db.pragma('busy_timeout = 5000');
  // Prometheus has scraped the collector (condition 0) before the first round.
  await waitFor(
    'Prometheus to scrape the gauge',
    async () => {
      const { text } = await httpText(`${prom.url}/api/v1/query?query=creditops_bench_condition_1`);
      return (JSON.parse(text) as { data: { result: unknown[] } }).data.result.length > 0 ? true : undefined;
    },
    30_000,
    daemons,
  );

  // (a) latency
  const rounds: Record<string, number>[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const before = smtp.mails.length;
    const t0 = Date.now();
    conditions[`creditops_bench_condition_${round}`] = 1;
    await push();
    const mail = await waitFor('the alert mail', async () => smtp.mails[before], 60_000, daemons);
    const { text } = await httpText(`${prom.url}/api/v1/alerts`);
    const alert = (
      JSON.parse(text) as { data: { alerts: { labels: Record<string, string>; activeAt: string }[] } }
    ).data.alerts.find((a) => a.labels.alertname === `BenchCondition${round}`);
    if (!alert) throw new Error(`BenchCondition${round} not active in Prometheus`);
    const activeAt = Date.parse(alert.activeAt);
    const queued = db
      .prepare(
        "SELECT created_at FROM outbox WHERE reason IN ('opened','reopened') ORDER BY created_at DESC LIMIT 1",
      )
      .get() as { created_at: string };
    const webhookAt = Date.parse(queued.created_at);
    const r = {
      round,
      totalMs: ms(mail.at - t0),
      prometheusAlignmentMs: ms(activeAt - t0),
      configuredWaitsMs: (FOR_S + GROUP_WAIT_S) * 1000,
      overheadMs: ms(mail.at - activeAt - (FOR_S + GROUP_WAIT_S) * 1000),
      collectorMs: ms(mail.at - webhookAt),
    };
    rounds.push(r);
    say(
      `round ${round}: condition → mail ${r.totalMs} ms = scrape/eval alignment ${r.prometheusAlignmentMs} ms + for ${FOR_S * 1000} ms + group_wait ${GROUP_WAIT_S * 1000} ms + overhead ${r.overheadMs} ms (collector: webhook commit → mail accepted ${r.collectorMs} ms)`,
    );
    conditions[`creditops_bench_condition_${round}`] = 0;
    await push();
    await waitFor('the recovery mail', async () => smtp.mails[before + 1], 60_000, daemons);
    // The next alert must not fall into this receiver's grouping window.
    if (round < ROUNDS) await sleep(WINDOW_S * 1000 + 500);
  }
  clearInterval(pusher);

  // (b) storm
  const mailsBefore = smtp.mails.length;
  const stormStart = Date.now();
  const batch = 100;
  const batches = Math.ceil(STORM / batch);
  const spacingMs = Math.min(500, Math.floor(50_000 / batches));
  for (let b = 0; b < batches; b++) {
    const alerts = Array.from({ length: Math.min(batch, STORM - b * batch) }, (_, i) => {
      const host = `storm-${String(b * batch + i + 1).padStart(5, '0')}`;
      return {
        labels: { alertname: 'BenchStorm', host, severity: 'P3', kind: 'fault' },
        annotations: { summary: `压测风暴：主机 ${host} 告警` },
        startsAt: new Date().toISOString(),
      };
    });
    const res = await httpText(`${am.url}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alerts),
    });
    if (res.status !== 200) throw new Error(`Alertmanager answered ${res.status}: ${res.text}`);
    await sleep(spacingMs);
  }
  const postedMs = Date.now() - stormStart;
  say(`storm: ${STORM} alerts posted to Alertmanager in ${(postedMs / 1000).toFixed(1)} s`);
  const countTickets = () =>
    (db.prepare("SELECT count(*) AS n FROM tickets WHERE title LIKE '压测风暴%'").get() as { n: number }).n;
  let lastReport = 0;
  await waitFor(
    `${STORM} storm tickets`,
    async () => {
      const n = countTickets();
      if (Date.now() - lastReport > 5000) {
        lastReport = Date.now();
        say(`  ${n} tickets after ${((Date.now() - stormStart) / 1000).toFixed(0)} s`);
      }
      return n >= STORM ? n : undefined;
    },
    300_000,
    daemons,
  );
  const ticketedMs = Date.now() - stormStart;
  const outboxOpen = () =>
    (
      db
        .prepare(
          "SELECT count(*) AS n FROM outbox o JOIN tickets t ON t.id = o.ticket_id WHERE t.title LIKE '压测风暴%' AND o.state IN ('pending','sending')",
        )
        .get() as { n: number }
    ).n;
  await waitFor(
    'the storm notifications to go out',
    async () => (outboxOpen() === 0 ? true : undefined),
    120_000,
    daemons,
  );
  const notifiedMs = Date.now() - stormStart;
  await sleep(1000);
  const stormMails = smtp.mails.slice(mailsBefore);
  const states = db
    .prepare(
      "SELECT o.state, count(*) AS n FROM outbox o JOIN tickets t ON t.id = o.ticket_id WHERE t.title LIKE '压测风暴%' GROUP BY o.state",
    )
    .all() as { state: string; n: number }[];
  const { default: PostalMime } = await import('postal-mime');
  const decoded = await Promise.all(stormMails.map((m) => PostalMime.parse(m.raw)));
  const perMail = decoded.map((m) => Number(/【通知汇总】(\d+) 条/.exec(m.subject ?? '')?.[1] ?? 1));
  const storm = {
    alerts: STORM,
    postedSeconds: postedMs / 1000,
    ticketed: countTickets(),
    allTicketedAfterSeconds: ticketedMs / 1000,
    allNotifiedAfterSeconds: notifiedMs / 1000,
    outboxStates: Object.fromEntries(states.map((s) => [s.state, s.n])),
    mails: stormMails.length,
    messagesPerMail: perMail,
    messagesCovered: perMail.reduce((a, b) => a + b, 0),
    groupWindowSeconds: WINDOW_S,
  };
  say(
    `storm: ${storm.ticketed}/${STORM} ticketed after ${storm.allTicketedAfterSeconds.toFixed(1)} s; ${storm.mails} mails (${perMail.join(' + ')} = ${storm.messagesCovered} notifications), all sent after ${storm.allNotifiedAfterSeconds.toFixed(1)} s`,
  );
  db.close();

  const overheads = rounds.map((r) => r.overheadMs!).sort((a, b) => a - b);
  const result = {
    bench: 'alerts',
    command: `npm run bench:alerts -- --rounds ${ROUNDS} --storm ${STORM} --window ${WINDOW_S} --sweep ${SWEEP_S}`,
    at: new Date().toISOString(),
    configuration: {
      scrapeIntervalSeconds: INTERVAL_S,
      evaluationIntervalSeconds: INTERVAL_S,
      forSeconds: FOR_S,
      groupWaitSeconds: GROUP_WAIT_S,
      groupWindowSeconds: WINDOW_S,
      ticketSweepSeconds: SWEEP_S,
      smtp: 'implicit TLS, smtp-server on loopback',
    },
    latency: {
      rounds,
      overheadMedianMs: overheads[Math.floor(overheads.length / 2)],
      overheadMaxMs: overheads.at(-1),
      targetMs: 1000,
      met: (overheads.at(-1) ?? Number.POSITIVE_INFINITY) <= 1000,
    },
    storm,
  };
  const out = fileURLToPath(new URL('../results/alerts.json', import.meta.url));
  mkdirSync(fileURLToPath(new URL('../results/', import.meta.url)), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  say(
    `latency overhead (beyond for + group_wait and the measured scrape/eval alignment): median ${result.latency.overheadMedianMs} ms, max ${result.latency.overheadMaxMs} ms (target ≤ 1000 ms)`,
  );
  say(`wrote ${out}`);
} finally {
  await Promise.all(daemons.map((d) => d.stop()));
  await smtp.close();
  dir.remove();
}
