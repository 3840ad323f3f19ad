/**
 * What every route needs, decorated onto the root instance: the configuration, the store, the
 * fleet's in-memory metrics, the collector's own counters and the clock.
 */

import type { ProcessStats } from '../../lib/process-stats.js';
import type { CollectorConfig } from '../config.js';
import type { FleetMetrics } from '../exposition/fleet-metrics.js';
import type { CollectorMetrics } from '../exposition/self-metrics.js';
import type { Store } from '../store/store.js';
import { sharedPlugin } from './shared-plugin.js';

export interface CollectorState {
  config: CollectorConfig['collector'];
  store: Store;
  fleet: FleetMetrics;
  metrics: CollectorMetrics;
  /** Milliseconds since the epoch. */
  now: () => number;
  /** The creditops version, for creditops_build_info and the web page. */
  version: string;
  readProcessStats: () => Promise<ProcessStats>;
}

declare module 'fastify' {
  interface FastifyInstance {
    collector: CollectorState;
  }
}

export const COLLECTOR_STATE_PLUGIN = 'creditops-collector-state';

export const collectorState = sharedPlugin<{ state: CollectorState }>(
  COLLECTOR_STATE_PLUGIN,
  [],
  async (app, { state }) => {
    app.decorate('collector', state);
  },
);
