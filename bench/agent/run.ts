/**
 * bench/agent: CPU seconds and peak RSS of the creditops agent per collection cycle, against
 * prometheus-node-exporter per scrape, on this host, side by side in one run.
 *
 * The two are measured in alternating rounds (agent block, exporter block, …) so that a noisy
 * neighbour on this shared machine hits both; the ratio of the medians is the result. node_exporter
 * is measured twice: with its default collectors (what people deploy) and limited to the
 * collectors the agent has (like for like).
 *
 *   npm run bench:agent -- [--rounds 5] [--cycles 40]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../test/helpers/processes.js';
import { cpuSeconds, median, peakRssBytes } from '../process-usage.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

const ROUNDS = arg('rounds', 5);
const CYCLES = arg('cycles', 100);

class AgentSide {
  private readonly child: ChildProcess;
  private readonly answers: AsyncIterator<string>;

  constructor() {
    // The compiled build (npm run build), so the loader's own memory does not count against the agent.
    this.child = spawn(process.execPath, [join(ROOT, 'dist/bench/agent/cycle-child.js')], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    this.answers = createInterface({ input: this.child.stdout! })[Symbol.asyncIterator]();
  }

  get pid(): number {
    return this.child.pid!;
  }

  async cycles(n: number): Promise<{ bytes: number; failed: string[] }> {
    this.child.stdin!.write(`${n}\n`);
    const { value } = await this.answers.next();
    return JSON.parse(String(value)) as { bytes: number; failed: string[] };
  }

  stop(): void {
    this.child.stdin!.end('quit\n');
  }
}

class ExporterSide {
  readonly child: ChildProcess;

  constructor(
    readonly label: string,
    readonly port: number,
    args: string[],
  ) {
    this.child = spawn('prometheus-node-exporter', [`--web.listen-address=127.0.0.1:${port}`, ...args], {
      stdio: 'ignore',
    });
  }

  async ready(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      try {
        if ((await fetch(`http://127.0.0.1:${this.port}/metrics`)).ok) return;
      } catch {
        // not yet listening
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${this.label} did not start`);
  }

  async scrapes(n: number): Promise<number> {
    let bytes = 0;
    for (let i = 0; i < n; i++)
      bytes = (await (await fetch(`http://127.0.0.1:${this.port}/metrics`)).text()).length;
    return bytes;
  }
}

async function measure(pid: number, work: () => Promise<unknown>): Promise<number> {
  const before = cpuSeconds(pid);
  await work();
  return (cpuSeconds(pid) - before) / CYCLES;
}

const LIKE_FOR_LIKE = [
  'cpu',
  'stat',
  'meminfo',
  'loadavg',
  'filesystem',
  'diskstats',
  'netdev',
  'netclass',
  'time',
  'timex',
  'filefd',
  'processes',
  'uname',
];

async function main(): Promise<void> {
  const agent = new AgentSide();
  const exporters = [
    new ExporterSide('node_exporter (defaults)', await freePort(), []),
    new ExporterSide('node_exporter (same collectors)', await freePort(), [
      '--collector.disable-defaults',
      ...LIKE_FOR_LIKE.map((c) => `--collector.${c}`),
    ]),
  ];
  await Promise.all(exporters.map((e) => e.ready()));
  // Warm-up: JIT for the agent, first-scrape caches for node_exporter.
  const warm = await agent.cycles(5);
  if (warm.failed.length > 0) console.warn(`agent collectors failing: ${warm.failed.join('; ')}`);
  for (const e of exporters) await e.scrapes(5);

  const agentCpu: number[] = [];
  const exporterCpu: number[][] = exporters.map(() => []);
  let agentBytes = 0;
  const exporterBytes: number[] = exporters.map(() => 0);
  for (let round = 0; round < ROUNDS; round++) {
    agentCpu.push(await measure(agent.pid, async () => (agentBytes = (await agent.cycles(CYCLES)).bytes)));
    for (const [i, e] of exporters.entries()) {
      exporterCpu[i]!.push(
        await measure(e.child.pid!, async () => (exporterBytes[i] = await e.scrapes(CYCLES))),
      );
    }
  }
  const agentRss = peakRssBytes(agent.pid);
  const results = {
    host: readFileSync('/proc/sys/kernel/hostname', 'utf8').trim(),
    date: new Date().toISOString(),
    rounds: ROUNDS,
    cyclesPerRound: CYCLES,
    agent: { cpuSecondsPerCycle: median(agentCpu), peakRssBytes: agentRss, expositionBytes: agentBytes },
    peers: exporters.map((e, i) => {
      const cpu = median(exporterCpu[i]!);
      const rss = peakRssBytes(e.child.pid!);
      return {
        name: e.label,
        cpuSecondsPerScrape: cpu,
        peakRssBytes: rss,
        expositionBytes: exporterBytes[i],
        cpuRatio: median(agentCpu) / cpu,
        rssRatio: agentRss / rss,
      };
    }),
  };
  agent.stop();
  for (const e of exporters) e.child.kill();

  const ms = (s: number) => `${(s * 1000).toFixed(2)} ms`;
  const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
  console.log(`bench/agent: ${ROUNDS} rounds × ${CYCLES} cycles, medians`);
  console.log(
    `  creditops agent                  CPU/cycle ${ms(results.agent.cpuSecondsPerCycle)}  peak RSS ${mib(agentRss)}  exposition ${agentBytes} B`,
  );
  for (const p of results.peers) {
    console.log(
      `  ${p.name.padEnd(32)} CPU/scrape ${ms(p.cpuSecondsPerScrape)}  peak RSS ${mib(p.peakRssBytes)}  exposition ${p.expositionBytes} B`,
    );
    console.log(`    ratio agent/peer: CPU ${p.cpuRatio.toFixed(2)}×  RSS ${p.rssRatio.toFixed(2)}×`);
  }
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/agent.json'), `${JSON.stringify(results, null, 2)}\n`);
}

await main();
