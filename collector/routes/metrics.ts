/** GET /metrics: the whole fleet and the collector itself, in one Prometheus text exposition. */
import type { FastifyInstance } from 'fastify';
import { EXPOSITION_CONTENT_TYPE } from '../../lib/exposition.js';
import { nodeProcessStats, type ProcessStats } from '../../lib/process-stats.js';
import { renderExposition } from '../exposition/self-metrics.js';
import { listAgents } from '../store/agents.js';

export default async function metricsRoutes(app: FastifyInstance): Promise<void> {
  const { config, store, fleet, metrics, now, version, readProcessStats } = app.collector;
  let procWarned = false;

  app.get('/metrics', async (request, reply) => {
    const nowMs = now();
    const agents = await listAgents(store);
    let process: ProcessStats;
    try {
      process = await readProcessStats();
    } catch (error) {
      if (!procWarned)
        request.log.warn({ err: error }, 'cannot read /proc/self; process metrics come from Node instead');
      procWarned = true;
      process = nodeProcessStats(nowMs);
    }
    const own = metrics.lines({
      agents,
      nowMs,
      staleAfterIntervals: config.staleAfterIntervals,
      version,
      process,
    });
    return reply.type(EXPOSITION_CONTENT_TYPE).send(renderExposition(own, fleet.merged(nowMs)));
  });
}
