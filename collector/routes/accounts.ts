/**
 * Account inventory and approvals.
 *
 * GET  /api/v1/accounts/:host           the latest inventory, the drift against the baseline, approvals
 * POST /api/v1/accounts/:host/approve   `{accounts?: string[], note?: string}`: approve the drift
 *                                       (all of it, or the named accounts); engineer or admin
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import {
  approveAccounts,
  driftResults,
  latestInventory,
  listApprovals,
  readBaseline,
} from '../accounts/drift.js';
import { sendError } from './errors.js';
import { requireUser } from './tickets/auth.js';

export default async function accountRoutes(app: FastifyInstance): Promise<void> {
  requireUser(app);
  const { store, config, now } = app.collector;
  const sourceName = config.probes.source;

  app.get<{ Params: { host: string } }>('/api/v1/accounts/:host', async (request, reply) => {
    const { host } = request.params;
    const inventory = await latestInventory(store, host, sourceName);
    if (!inventory)
      return sendError(reply, 404, 'no_inventory', `host ${host} has not reported its accounts yet`);
    const { drift } = await driftResults(store, host, sourceName);
    return {
      host,
      observedAt: inventory.observedAt,
      accounts: inventory.accounts,
      baseline: await readBaseline(store, host),
      drift,
      approvals: await listApprovals(store, host),
    };
  });

  app.post<{ Params: { host: string }; Body: { accounts?: string[]; note?: string } }>(
    '/api/v1/accounts/:host/approve',
    {
      schema: {
        body: Type.Object(
          {
            accounts: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
            /** The bureau's approval reference (document number, ticket). */
            note: Type.Optional(Type.String({ maxLength: 2000 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const { host } = request.params;
      if (!(await latestInventory(store, host, sourceName))) {
        return sendError(reply, 404, 'no_inventory', `host ${host} has not reported its accounts yet`);
      }
      const outcome = await approveAccounts(store, host, sourceName, request.user!.name, {
        ...(request.body?.accounts ? { accounts: request.body.accounts } : {}),
        ...(request.body?.note ? { note: request.body.note } : {}),
        now: now(),
      });
      // Re-evaluate at once so the drift results clear without waiting for the next sweep.
      const { results } = await driftResults(store, host, sourceName);
      await app.probing.source.record(`accounts\u0000${host}`, results);
      return { host, approvedBy: request.user!.name, ...outcome };
    },
  );
}
