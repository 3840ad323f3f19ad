/**
 * POST /api/v1/alertmanager/webhook: Alertmanager's webhook receiver (deploy/alertmanager.yml).
 *
 * Authenticated by the bearer token in `collector.alertmanagerTokenFile` (the same file the
 * Alertmanager's `credentials_file` reads; read per request so a rotated token works at once).
 * Every alert is handled by its own status, in one transaction; the answer is 200 only after it
 * committed, and 503 when the store failed (Alertmanager retries). A resolve for an alert never
 * seen firing is logged and answered 200.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { Static } from '@sinclair/typebox';
import type { FastifyError, FastifyInstance } from 'fastify';
import { AlertmanagerPayload, ingestAlerts } from '../tickets/alerts.js';
import { sendError } from './errors.js';
import { readBearerToken } from './push/authenticate.js';

function sameSecret(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

export default async function alertmanagerRoutes(app: FastifyInstance): Promise<void> {
  const { config } = app.collector;
  const { service, metrics, ticketPolicy } = app.ticketing;
  const file = config.alertmanagerTokenFile;

  app.addHook('onRequest', async (request, reply) => {
    let expected: string;
    try {
      expected = (await readFile(file, 'utf8')).trim();
    } catch (error) {
      request.log.error(
        { file, error: (error as Error).message },
        'alertmanager webhook token file unreadable: create it (deploy/run.sh does) with the token Alertmanager sends',
      );
      // The path stays in the log: callers are not authenticated yet.
      return sendError(
        reply,
        503,
        'webhook_token_missing',
        'the collector has no webhook token configured (collector.alertmanagerTokenFile); see its log',
      );
    }
    if (expected === '') {
      request.log.error({ file }, 'alertmanager webhook token file is empty');
      return sendError(
        reply,
        503,
        'webhook_token_missing',
        'the collector has no webhook token configured (collector.alertmanagerTokenFile); see its log',
      );
    }
    const bearer = readBearerToken(request.headers.authorization);
    if (!bearer.ok) {
      reply.header('www-authenticate', 'Bearer realm="creditops-alertmanager"');
      return sendError(
        reply,
        401,
        bearer.error,
        'send the token of collector.alertmanagerTokenFile as "Authorization: Bearer …" (http_config.authorization.credentials_file in alertmanager.yml)',
      );
    }
    if (!sameSecret(bearer.token, expected)) {
      reply.header('www-authenticate', 'Bearer realm="creditops-alertmanager", error="invalid_token"');
      return sendError(
        reply,
        401,
        'unknown_token',
        'the bearer token does not match the one in collector.alertmanagerTokenFile',
      );
    }
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.statusCode !== undefined && error.statusCode < 500) {
      return sendError(
        reply,
        error.statusCode,
        error.code === 'FST_ERR_VALIDATION' ? 'invalid_payload' : (error.code ?? 'bad_request'),
        error.message,
      );
    }
    request.log.error({ err: error }, 'alertmanager webhook failed');
    // 503: Alertmanager retries the notification.
    return sendError(
      reply,
      503,
      'store_unavailable',
      `the collector could not store the alerts, try again: ${error.message}`,
    );
  });

  app.post<{ Body: Static<typeof AlertmanagerPayload> }>(
    '/api/v1/alertmanager/webhook',
    { schema: { body: AlertmanagerPayload } },
    async (request) => {
      const payload = request.body;
      for (const a of payload.alerts) metrics.alertsReceived[a.status]++;
      const outcomes = await ingestAlerts(
        service,
        payload,
        ticketPolicy.reopenAlertsWithinMinutes * 60_000,
        request.log,
      );
      request.log.info(
        {
          alerts: outcomes.length,
          actions: outcomes.map((o) => `${o.status}:${o.action}:${o.ticket ?? '-'}`),
        },
        'alertmanager webhook',
      );
      return { outcomes };
    },
  );
}
