/** Runs the collector: opens the store, builds the app and listens. */
import { existsSync } from 'node:fs';
import pino from 'pino';
import { buildApp } from './app.js';
import type { CollectorConfig } from './config.js';
import { openStore } from './store/store.js';

export interface RunningCollector {
  /** Where agents and Prometheus reach the collector (publicUrl when configured). */
  url: string;
  close(): Promise<void>;
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(\[([0-9a-fA-F:.]+)\]|[^:\s[\]]+):(\d{1,5})$/.exec(listen);
  if (!m)
    throw new Error(
      `invalid collector.listen "${listen}": expected host:port, e.g. 127.0.0.1:9470 or [::1]:9470`,
    );
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`invalid collector.listen "${listen}": port ${port} is above 65535`);
  return { host: m[2] ?? m[1]!, port };
}

export async function startCollector(
  config: CollectorConfig,
  options: { log?: pino.Logger } = {},
): Promise<RunningCollector> {
  const log = options.log ?? pino({ level: config.collector.logLevel, name: 'creditops-collector' });
  const { host, port } = parseListen(config.collector.listen);
  const store = await openStore(config.collector.dataDir);
  const app = buildApp({ config, store, log });
  try {
    await app.listen({ host, port });
  } catch (error) {
    await app.close();
    await store.close();
    throw new Error(`collector cannot listen on ${config.collector.listen}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const address = app.server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const url = config.collector.publicUrl ?? `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`;
  log.info({ url, dataDir: config.collector.dataDir, store: store.location }, 'collector listening');
  if (!existsSync(config.collector.alertmanagerTokenFile)) {
    log.warn(
      { file: config.collector.alertmanagerTokenFile },
      'no Alertmanager webhook token file: alerts will be refused until it exists (deploy/run.sh creates one)',
    );
  }
  return {
    url,
    async close() {
      await app.close();
      await store.close();
    },
  };
}
