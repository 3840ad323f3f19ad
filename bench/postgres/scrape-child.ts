/**
 * The measured side of bench/postgres: the agent's postgres collector with its default options
 * against one server, running N scrapes (collect and render the exposition) each time the parent
 * writes N on a line. The parent reads this process's CPU time and peak RSS from /proc.
 *
 * Scrapes run back to back, but the collector's clock advances by its default interval (30 s) at
 * each, so the passes on longer intervals (per-database, security baseline: 300 s) run as often
 * per scrape as in the agent, every tenth scrape.
 */
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { createPostgresCollector, postgres } from '../../agent/collectors/postgres/collector.js';
import { formatExposition } from '../../lib/exposition.js';
import { MetricRegistry } from '../../lib/metrics.js';

const [host = '127.0.0.1', port = '5432', user = 'postgres', largestTables = '20'] = process.argv.slice(2);
const log = pino({ level: 'error' });
let clock = Date.now();
const now = () => clock;
const collector = createPostgresCollector(
  {
    servers: [
      {
        name: 'main',
        host,
        port: Number(port),
        user,
        database: 'postgres',
        sslmode: 'disable',
        includeDatabases: [],
        excludeDatabases: [],
      },
    ],
    largestTables: Number(largestTables),
  },
  { log, now },
);

let bytes = 0;
let failed = 0;
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'quit') break;
  const n = Number(line) || 1;
  for (let i = 0; i < n; i++) {
    clock += postgres.defaultIntervalSeconds * 1000;
    const registry = new MetricRegistry();
    await collector.collect({
      procRoot: '/proc',
      sysRoot: '/sys',
      rootfs: '/',
      registry,
      signal: new AbortController().signal,
      now,
      log,
      report: () => {},
    });
    const families = registry.collect();
    if (families.find((f) => f.name === 'creditops_postgres_scrape_success')?.samples[0]?.value !== 1)
      failed++;
    bytes = formatExposition(families).length;
  }
  process.stdout.write(`${JSON.stringify({ done: n, bytes, failed })}\n`);
}
await collector.close();
process.exit(0);
