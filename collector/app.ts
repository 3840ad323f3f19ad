/**
 * Builds the collector's HTTP application without listening, so tests drive it with inject() and
 * server.ts decides where it listens.
 */
import Fastify, { type FastifyError, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import { readProcessStats } from '../lib/process-stats.js';
import { VERSION } from '../lib/version.js';
import type { CollectorConfig } from './config.js';
import { FleetMetrics } from './exposition/fleet-metrics.js';
import { CollectorMetrics } from './exposition/self-metrics.js';
import { collectorState } from './plugins/collector-state.js';
import { type ProbingOptions, probingPlugin } from './probes/plugin.js';
import accountRoutes from './routes/accounts.js';
import alertmanagerRoutes from './routes/alertmanager.js';
import circularRoutes from './routes/circular.js';
import { sendError } from './routes/errors.js';
import healthRoutes from './routes/health.js';
import homeRoutes from './routes/home.js';
import inspectionRoutes from './routes/inspections.js';
import maintenanceRoutes from './routes/maintenance.js';
import metricsRoutes from './routes/metrics.js';
import pushRoutes from './routes/push/index.js';
import sdRoutes from './routes/sd.js';
import ticketRoutes from './routes/tickets/index.js';
import ticketPages from './routes/tickets/pages.js';
import type { Store } from './store/store.js';
import { type TicketingOptions, ticketingPlugin } from './tickets/plugin.js';

export interface BuildAppOptions {
  config: CollectorConfig;
  store: Store;
  log: Logger;
  /** Milliseconds since the epoch; tests inject a clock. */
  now?: () => number;
  /** Where /proc is; tests point it at a fixture tree. */
  procRoot?: string;
  version?: string;
  /** Policies and channels for tickets and notifications; by default read from the config's files. */
  ticketing?: TicketingOptions;
  /** The collector's own probing (endpoints, SSH hosts, inspections); scheduled by default. */
  probing?: ProbingOptions;
}

export function buildApp(options: BuildAppOptions): FastifyInstance {
  const config = options.config.collector;
  const app = Fastify({
    loggerInstance: options.log,
    bodyLimit: config.bodyLimitBytes,
    // One log line per push would drown everything else; the push route logs what matters.
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance;

  app.register(collectorState, {
    state: {
      config,
      store: options.store,
      fleet: new FleetMetrics({ staleAfterIntervals: config.staleAfterIntervals }),
      metrics: new CollectorMetrics(),
      now: options.now ?? Date.now,
      version: options.version ?? VERSION,
      readProcessStats: () => readProcessStats(options.procRoot),
    },
  });

  app.register(ticketingPlugin, options.ticketing ?? {});
  app.register(probingPlugin, options.probing ?? {});

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.statusCode !== undefined && error.statusCode < 500) {
      return sendError(reply, error.statusCode, error.code ?? 'bad_request', error.message);
    }
    request.log.error({ err: error }, 'request failed');
    return sendError(reply, 500, 'internal_error', error.message);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 404, 'not_found', `no route ${request.method} ${request.url.split('?')[0]}`),
  );

  app.register(pushRoutes);
  app.register(metricsRoutes);
  app.register(sdRoutes);
  app.register(healthRoutes);
  app.register(homeRoutes);
  app.register(alertmanagerRoutes);
  app.register(ticketRoutes);
  app.register(accountRoutes);
  app.register(inspectionRoutes);
  app.register(maintenanceRoutes);
  app.register(ticketPages);
  app.register(circularRoutes);
  return app;
}
