/**
 * Daily inspection reports.
 *
 * GET  /api/v1/inspections?host=&day=   reports, newest day first (without their checks)
 * GET  /api/v1/inspections/:id          one report with every check's verdict and evidence
 * POST /api/v1/inspections/run          `{hosts?: string[]}`: inspect now (engineer or admin)
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { getReport, listReports } from '../inspection/report.js';
import { sendError } from './errors.js';
import { requireUser } from './tickets/auth.js';

export default async function inspectionRoutes(app: FastifyInstance): Promise<void> {
  requireUser(app);
  const { store } = app.collector;

  app.get<{ Querystring: { host?: string; day?: string } }>('/api/v1/inspections', async (request) => ({
    reports: await listReports(store, {
      ...(request.query.host ? { host: request.query.host } : {}),
      ...(request.query.day ? { day: request.query.day } : {}),
    }),
  }));

  app.get<{ Params: { id: string } }>('/api/v1/inspections/:id', async (request, reply) => {
    const report = await getReport(store, request.params.id);
    return report ?? sendError(reply, 404, 'not_found', `no inspection report ${request.params.id}`);
  });

  app.post<{ Body: { hosts?: string[] } }>(
    '/api/v1/inspections/run',
    {
      schema: {
        body: Type.Optional(
          Type.Object(
            { hosts: Type.Optional(Type.Array(Type.String({ minLength: 1 }))) },
            { additionalProperties: false },
          ),
        ),
      },
    },
    async (request) => {
      const reports = await app.probing.inspections.runAll('manual', request.body?.hosts);
      return { reports: reports.map(({ checks: _c, ...r }) => r) };
    },
  );
}
