/**
 * The agent daemon: runs the collectors, serves /metrics, pushes to the collector, and turns a
 * collector's success flipping into a check result (evidence that a part of the monitoring was
 * blind, and when it recovered).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { EXPOSITION_CONTENT_TYPE, formatExposition } from '../lib/exposition.js';
import { createLogger } from '../lib/log.js';
import { type MetricFamily, MetricRegistry } from '../lib/metrics.js';
import { writeProcessMetrics } from '../lib/process-metrics.js';
import { VERSION } from '../lib/version.js';
import { collectors } from './collectors/index.js';
import type { CollectorDescriptor } from './collectors/types.js';
import type { AgentConfig } from './config.js';
import { hostProbesCollector } from './host-probes.js';
import { readInventory } from './inventory.js';
import { Outbox } from './outbox.js';
import { Pusher } from './push.js';
import { CollectorRunner, type ScheduledCollector } from './runner.js';
import { VerdictRecorder } from './verdicts.js';

export interface RunningAgent {
  /** Base URL of the agent's own HTTP server. */
  url: string;
  runner: CollectorRunner;
  outbox: Outbox;
  pusher: Pusher | undefined;
  /** Everything /metrics shows. */
  exposition(): Promise<string>;
  close(): Promise<void>;
}

export function readAgentToken(config: AgentConfig): string | undefined {
  if (config.push.tokenFile) {
    try {
      return readFileSync(config.push.tokenFile, 'utf8').trim();
    } catch (cause) {
      throw new Error(`cannot read push.tokenFile ${config.push.tokenFile}: ${(cause as Error).message}`, {
        cause,
      });
    }
  }
  const fromEnv = process.env[config.push.tokenEnv];
  return fromEnv?.trim() || undefined;
}

export function scheduledCollectors(config: AgentConfig, log: Logger): ScheduledCollector[] {
  const scheduled: ScheduledCollector[] = [];
  for (const [name, descriptor] of Object.entries(collectors) as [
    string,
    CollectorDescriptor<Record<string, unknown>>,
  ][]) {
    const section = config.collectors[name] ?? {
      enabled: true,
      intervalSeconds: descriptor.defaultIntervalSeconds,
      timeoutSeconds: descriptor.defaultTimeoutSeconds,
    };
    if (!section.enabled) continue;
    const { enabled: _e, intervalSeconds, timeoutSeconds, ...options } = section;
    scheduled.push({
      name,
      intervalMs: intervalSeconds * 1000,
      timeoutMs: Math.min(timeoutSeconds, intervalSeconds) * 1000,
      collector: descriptor.create(options, { log: log.child({ collector: name }) }),
    });
  }
  if (config.probes.enabled) {
    scheduled.push({
      name: 'probes',
      intervalMs: config.probes.intervalSeconds * 1000,
      timeoutMs: Math.min(config.probes.timeoutSeconds, config.probes.intervalSeconds) * 1000,
      collector: hostProbesCollector(config.probes, config.agent.rootfs),
    });
  }
  return scheduled;
}

function splitListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(listen.slice(i + 1)) };
}

export async function startAgent(
  config: AgentConfig,
  log: Logger = createLogger('creditops-agent', config.agent.logLevel),
): Promise<RunningAgent> {
  const token = config.push.url ? readAgentToken(config) : undefined;
  if (config.push.url && !token) {
    throw new Error(
      `push.url is set but no token was found: set push.tokenFile or the ${config.push.tokenEnv} environment variable (get one with "creditops agent enroll ${config.agent.name}")`,
    );
  }
  const outbox = new Outbox({ dir: join(config.agent.dataDir, 'outbox'), log });
  const verdicts = new VerdictRecorder(outbox);
  const runner = new CollectorRunner({
    collectors: scheduledCollectors(config, log),
    roots: { procRoot: config.agent.procRoot, sysRoot: config.agent.sysRoot, rootfs: config.agent.rootfs },
    log,
    // A collector that stops working leaves part of the host unwatched: that is evidence too.
    onStatusChange: (state) =>
      verdicts.record(
        [
          {
            check: 'agent.collector',
            target: state.name,
            status: state.success ? 'OK' : 'CRIT',
            summary: state.success
              ? `采集器 ${state.name} 正常`
              : `采集器 ${state.name} 失败：${state.error ?? '未知原因'}`,
          },
        ],
        state.lastRunAt ?? Date.now(),
      ),
    onVerdicts: (list, observedAt) => verdicts.record(list, observedAt),
  });

  let pusher: Pusher | undefined;
  const ownFamilies = async (): Promise<MetricFamily[]> => {
    const registry = new MetricRegistry();
    registry.gauge('creditops_agent_build_info', 'The agent build; always 1.').set({ version: VERSION }, 1);
    registry
      .gauge('creditops_agent_outbox_pending', 'Check results waiting for the collector to acknowledge them.')
      .value(outbox.size);
    registry
      .counter('creditops_agent_outbox_dropped_total', 'Check results dropped because the outbox was full.')
      .value(outbox.dropped);
    if (pusher) {
      const pushes = registry.counter('creditops_agent_pushes_total', 'Pushes to the collector by result.');
      for (const [result, count] of Object.entries(pusher.counts)) pushes.set({ result }, count);
      registry
        .gauge('creditops_agent_push_duration_seconds', 'Duration of the last push.')
        .value(pusher.lastDurationSeconds);
      if (pusher.lastSuccessAt) {
        registry
          .gauge('creditops_agent_last_push_success_timestamp_seconds', 'When a push last succeeded.')
          .value(pusher.lastSuccessAt / 1000);
      }
    }
    verdicts.write(registry, Date.now());
    await writeProcessMetrics(registry, config.agent.procRoot).catch(() => undefined);
    return registry.collect();
  };

  let latestOwn: MetricFamily[] = [];
  const exposition = async () => {
    latestOwn = await ownFamilies();
    return formatExposition([...runner.families(), ...latestOwn]);
  };

  const { host, port } = splitListen(config.agent.listen);
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET' && req.url?.split('?')[0] === '/metrics') {
      exposition().then(
        (text) => {
          res.writeHead(200, { 'content-type': EXPOSITION_CONTENT_TYPE });
          res.end(text);
        },
        (error: Error) => {
          res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
          res.end(`error: ${error.message}\n`);
        },
      );
      return;
    }
    if (req.method === 'GET' && req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok\n');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('not found: try /metrics\n');
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) =>
        reject(
          new Error(`agent cannot listen on ${config.agent.listen}: ${error.message}`, { cause: error }),
        ),
      );
      server.listen(port, host, () => resolve());
    });
  } catch (error) {
    // Collectors may already hold a helper process; release them so the process can exit.
    await runner.stop();
    throw error;
  }
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;

  runner.start();
  if (config.push.url && token) {
    pusher = new Pusher({
      url: config.push.url,
      token,
      agentName: config.agent.name,
      version: VERSION,
      intervalMs: config.push.intervalSeconds * 1000,
      timeoutMs: config.push.timeoutSeconds * 1000,
      startedAt: new Date(),
      log,
      outbox,
      families: () => [...runner.families(), ...latestOwn],
      inventory: () => readInventory({ metricsAddress: `${host}:${boundPort}` }),
    });
    // Refresh the agent's own metrics before each push so they travel too.
    const refresh = setInterval(
      () => void ownFamilies().then((f) => (latestOwn = f)),
      config.push.intervalSeconds * 1000,
    );
    refresh.unref();
    latestOwn = await ownFamilies();
    pusher.start();
    const stopRefresh = () => clearInterval(refresh);
    server.once('close', stopRefresh);
  }
  log.info(
    { url: `${url}/metrics`, collector: config.push.url || '(none)', agent: config.agent.name },
    'agent started',
  );

  return {
    url,
    runner,
    outbox,
    pusher,
    exposition,
    async close() {
      pusher?.stop();
      await runner.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
