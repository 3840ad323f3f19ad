/**
 * bench/postgres: CPU seconds per scrape and peak RSS of the agent's PostgreSQL collection against
 * Debian's prometheus-postgres-exporter, on the same PostgreSQL 15 server, side by side in one run.
 *
 * Alternating rounds (agent block, exporter block, …) so a noisy neighbour hits both; the result
 * is the ratio of the medians. Server CPU is not counted (both run the same kind of queries). The
 * agent side is bundled with esbuild first so no TypeScript loader sits in its memory.
 *
 *   node --import tsx bench/postgres/run.ts [--rounds 5] [--scrapes 50] [--largest-tables 20]
 *
 * Needs Debian's postgresql-15 and prometheus-postgres-exporter; writes bench/results/postgres.json.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startPostgres } from '../../test/helpers/postgres.js';
import { freePort } from '../../test/helpers/processes.js';
import { cpuSeconds, median, peakRssBytes } from '../process-usage.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}
const ROUNDS = arg('rounds', 5);
const SCRAPES = arg('scrapes', 50);
/** 20 is the agent's default; 0 leaves out table statistics, which postgres_exporter 0.11 does not export. */
const LARGEST_TABLES = arg('largest-tables', 20);

async function main(): Promise<void> {
  const server = await startPostgres({ major: 15 });
  try {
    // A credit-system-like cluster: a few databases with a few dozen tables.
    for (const db of ['credit', 'portal', 'report']) {
      await server.query(`CREATE DATABASE ${db}`);
      const ddl = Array.from(
        { length: 30 },
        (_, i) => `CREATE TABLE t${i} AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 2000) g;`,
      ).join('\n');
      await server.query(`${ddl} ANALYZE;`, [], db);
    }

    // Inside node_modules/.cache so the bundle's bare imports (pg, pino) resolve to the project's.
    const bundleDir = join(ROOT, 'node_modules/.cache/creditops-bench');
    mkdirSync(bundleDir, { recursive: true });
    const bundle = join(bundleDir, 'postgres-scrape-child.mjs');
    execFileSync(
      join(ROOT, 'node_modules/.bin/esbuild'),
      [
        '--bundle',
        '--platform=node',
        '--format=esm',
        '--packages=external',
        `--outfile=${bundle}`,
        'bench/postgres/scrape-child.ts',
      ],
      { cwd: ROOT, stdio: 'inherit' },
    );
    const agent = spawn(
      process.execPath,
      [
        ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
        bundle,
        '127.0.0.1',
        String(server.port),
        'postgres',
        String(LARGEST_TABLES),
      ],
      {
        cwd: ROOT,
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    const answers = createInterface({ input: agent.stdout! })[Symbol.asyncIterator]();
    const agentScrapes = async (n: number) => {
      agent.stdin!.write(`${n}\n`);
      return JSON.parse(String((await answers.next()).value)) as { bytes: number; failed: number };
    };

    const port = await freePort();
    const url = `http://127.0.0.1:${port}/metrics`;
    const exporter: ChildProcess = spawn(
      'prometheus-postgres-exporter',
      [`--web.listen-address=127.0.0.1:${port}`],
      {
        env: {
          ...process.env,
          DATA_SOURCE_NAME: `postgresql://postgres@127.0.0.1:${server.port}/postgres?sslmode=disable`,
        },
        stdio: 'ignore',
      },
    );
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(url)).ok) break;
      } catch {
        if (i > 100) throw new Error('postgres_exporter did not start');
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const exporterScrapes = async (n: number) => {
      let bytes = 0;
      for (let i = 0; i < n; i++) bytes = (await (await fetch(url)).text()).length;
      return bytes;
    };

    // Warm-up, one round on each side: the agent's connection and first passes, exporter caches, and
    // V8's optimizing compiler, which takes a few dozen scrapes to settle (in five, the first
    // measured rounds cost twice the last ones). A running agent has long passed that point.
    const warm = await agentScrapes(SCRAPES);
    if (warm.failed > 0) console.warn(`agent scrapes not fully successful: ${warm.failed}`);
    await exporterScrapes(SCRAPES);

    const agentCpu: number[] = [];
    const exporterCpu: number[] = [];
    let agentBytes = 0;
    let exporterBytes = 0;
    for (let round = 0; round < ROUNDS; round++) {
      let before = cpuSeconds(agent.pid!);
      agentBytes = (await agentScrapes(SCRAPES)).bytes;
      agentCpu.push((cpuSeconds(agent.pid!) - before) / SCRAPES);
      before = cpuSeconds(exporter.pid!);
      exporterBytes = await exporterScrapes(SCRAPES);
      exporterCpu.push((cpuSeconds(exporter.pid!) - before) / SCRAPES);
    }
    const results = {
      date: new Date().toISOString(),
      server: 'PostgreSQL 15 (Debian), 3 databases × 30 tables',
      rounds: ROUNDS,
      scrapesPerRound: SCRAPES,
      largestTables: LARGEST_TABLES,
      agent: {
        cpuSecondsPerScrape: median(agentCpu),
        cpuSecondsPerScrapeByRound: agentCpu,
        peakRssBytes: peakRssBytes(agent.pid!),
        expositionBytes: agentBytes,
      },
      postgresExporter: {
        version: execFileSync('prometheus-postgres-exporter', ['--version'], { encoding: 'utf8' }).split(
          '\n',
        )[0],
        cpuSecondsPerScrape: median(exporterCpu),
        cpuSecondsPerScrapeByRound: exporterCpu,
        peakRssBytes: peakRssBytes(exporter.pid!),
        expositionBytes: exporterBytes,
      },
      cpuRatio: median(agentCpu) / median(exporterCpu),
      rssRatio: peakRssBytes(agent.pid!) / peakRssBytes(exporter.pid!),
    };
    agent.stdin!.end('quit\n');
    exporter.kill();

    const ms = (s: number) => `${(s * 1000).toFixed(2)} ms`;
    const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
    console.log(`bench/postgres: ${ROUNDS} rounds × ${SCRAPES} scrapes, medians`);
    console.log(
      `  creditops postgres collector  CPU/scrape ${ms(results.agent.cpuSecondsPerScrape)}  peak RSS ${mib(results.agent.peakRssBytes)}  exposition ${agentBytes} B`,
    );
    console.log(
      `  postgres_exporter             CPU/scrape ${ms(results.postgresExporter.cpuSecondsPerScrape)}  peak RSS ${mib(results.postgresExporter.peakRssBytes)}  exposition ${exporterBytes} B`,
    );
    console.log(
      `  ratio agent/exporter: CPU ${results.cpuRatio.toFixed(2)}×  RSS ${results.rssRatio.toFixed(2)}×`,
    );
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    writeFileSync(
      join(ROOT, `bench/results/postgres${LARGEST_TABLES === 20 ? '' : `-tables-${LARGEST_TABLES}`}.json`),
      `${JSON.stringify(results, null, 2)}\n`,
    );
  } finally {
    await server.stop();
  }
}

await main();
