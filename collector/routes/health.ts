/** GET /healthz: 200 while the store answers, 503 otherwise (for load balancers and systemd). */
import type { FastifyInstance } from 'fastify';
import { pingStore } from '../store/store.js';
import { sendError } from './errors.js';

export default async function healthRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app.collector;
  app.get('/healthz', async (request, reply) => {
    try {
      await pingStore(store);
      return { status: 'ok' };
    } catch (error) {
      request.log.error({ err: error }, 'health check: store unreachable');
      return sendError(
        reply,
        503,
        'store_unavailable',
        `the store does not answer: ${(error as Error).message}`,
      );
    }
  });
}
