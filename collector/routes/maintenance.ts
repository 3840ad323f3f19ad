/**
 * Maintenance windows (Bearer user token; viewers read only):
 *
 *   GET    /api/v1/maintenance/windows[?all=1]     active (or every, deleted included) window
 *   POST   /api/v1/maintenance/windows             create (one-off or recurring)
 *   DELETE /api/v1/maintenance/windows/:id         end it (kept for the availability report)
 *   GET    /api/v1/maintenance/suppressions[?window=id]   what windows held back
 */
import type { Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { MaintenanceWindowInput } from '../maintenance/windows.js';
import { sendError } from './errors.js';
import { requireUser } from './tickets/auth.js';

export default async function maintenanceRoutes(app: FastifyInstance): Promise<void> {
  requireUser(app);
  const { maintenance } = app.ticketing;

  app.get<{ Querystring: { all?: string } }>('/api/v1/maintenance/windows', async (request) => ({
    windows: await maintenance.list(request.query.all === '1' || request.query.all === 'true'),
  }));

  app.post<{ Body: Static<typeof MaintenanceWindowInput> }>(
    '/api/v1/maintenance/windows',
    { schema: { body: MaintenanceWindowInput } },
    async (request, reply) => {
      try {
        const window = await maintenance.create(request.body, request.user!.name);
        return reply.code(201).send(window);
      } catch (error) {
        return sendError(reply, 400, 'invalid_window', (error as Error).message);
      }
    },
  );

  app.delete<{ Params: { id: string } }>('/api/v1/maintenance/windows/:id', async (request, reply) => {
    if (!(await maintenance.delete(request.params.id)))
      return sendError(reply, 404, 'not_found', `no active maintenance window ${request.params.id}`);
    return { deleted: request.params.id };
  });

  app.get<{ Querystring: { window?: string } }>('/api/v1/maintenance/suppressions', async (request) => ({
    suppressions: await maintenance.suppressions(request.query.window),
  }));
}
