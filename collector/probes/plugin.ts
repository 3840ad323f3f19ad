/**
 * Wires the collector's own probing into the app: the collector source (pseudo-agent) and the
 * endpoint probe runner, started when the app is ready and stopped when it closes.
 */
import type { Logger } from 'pino';
import { sweepAccountDrift } from '../accounts/sweep.js';
import { InspectionScheduler } from '../inspection/schedule.js';
import { COLLECTOR_STATE_PLUGIN } from '../plugins/collector-state.js';
import { sharedPlugin } from '../plugins/shared-plugin.js';
import { EndpointProbeRunner } from './endpoint-runner.js';
import { CollectorSource } from './source.js';

declare module 'fastify' {
  interface FastifyInstance {
    probing: { source: CollectorSource; endpoints: EndpointProbeRunner; inspections: InspectionScheduler };
  }
}

export interface ProbingOptions extends Record<string, unknown> {
  /** Start the timers on ready (off in tests that drive runs themselves). @defaultValue true */
  schedule?: boolean;
}

export const PROBING_PLUGIN = 'creditops-probing';

export const probingPlugin = sharedPlugin<ProbingOptions>(
  PROBING_PLUGIN,
  [COLLECTOR_STATE_PLUGIN],
  async (app, options) => {
    const { config, store, fleet, now } = app.collector;
    const probes = config.probes;
    const source = new CollectorSource({
      name: probes.source,
      store,
      fleet,
      now,
      log: app.log as unknown as Logger,
      intervalSeconds: Math.max(probes.intervalSeconds, ...probes.targets.map((t) => t.intervalSeconds ?? 0)),
    });
    const endpoints = new EndpointProbeRunner(probes, source, app.log as unknown as Logger, now);
    const inspections = new InspectionScheduler({
      store,
      config: config.inspection,
      sourceName: probes.source,
      now,
      log: app.log as unknown as Logger,
      record: (unit, results) => source.record(unit, results),
    });
    app.decorate('probing', { source, endpoints, inspections });
    if (options.schedule !== false) {
      let sweep: NodeJS.Timeout | undefined;
      app.addHook('onReady', async () => {
        if (probes.targets.length > 0) endpoints.start();
        inspections.start();
        // Account drift is evaluated on the probes' interval, and right after each approval.
        sweep = setInterval(() => {
          const sshHosts = config.inspection.hosts.filter((h) => h.ssh).map((h) => h.name);
          sweepAccountDrift(store, source, probes.source, sshHosts).catch((err: Error) =>
            app.log.error({ err }, 'account drift sweep failed'),
          );
        }, probes.intervalSeconds * 1000);
        sweep.unref();
      });
      app.addHook('onClose', async () => {
        endpoints.stop();
        inspections.stop();
        clearInterval(sweep);
      });
    }
  },
);
