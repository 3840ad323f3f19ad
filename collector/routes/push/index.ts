/**
 * POST /api/v1/push: an agent's latest metrics and its check results.
 *
 * Checks run cheapest first and stop at the first failure: token (before the body is read), media
 * type, size, JSON syntax, protocol schema, agent name, metric semantics. Metrics that fail their
 * semantic checks are refused (4xx) but the push's check results are still stored and acked in
 * the error body: evidence must not wait on a metric bug. Only after the check results are
 * committed does the agent get their seqs back in `acked`, and only then may it drop them.
 */
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { checkPushPayload, PROTOCOL_VERSION, type PushPayload } from '../../../lib/wire/push.js';
import { pushResultForStatus } from '../../exposition/self-metrics.js';
import { type Agent, authenticateAgent } from '../../store/agents.js';
import { recordCheckResults, recordPush } from '../../store/check-results.js';
import { formatBytes, sendError } from '../errors.js';
import { readBearerToken } from './authenticate.js';
import { locateJsonError } from './json-error.js';
import { pushRouteSchema } from './schema.js';

declare module 'fastify' {
  interface FastifyRequest {
    agent: Agent | null;
  }
}

class InvalidJsonError extends Error {
  constructor(
    message: string,
    readonly location: { position: number; line: number; column: number },
  ) {
    super(message);
  }
}

export default async function pushRoutes(app: FastifyInstance): Promise<void> {
  const { config, store, fleet, metrics, now } = app.collector;
  /** The newest process seen pushing with each agent's token: its start and its last push. */
  const newestProcess = new Map<string, { started: number; seenMs: number }>();
  const limit = config.bodyLimitBytes;

  app.decorateRequest('agent', null);

  // This context parses JSON itself, to report where a body stops being JSON.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: limit },
    (_req, body, done) => {
      const text = body as string;
      try {
        done(null, JSON.parse(text));
      } catch (cause) {
        const at = locateJsonError(text) ?? { position: 0, line: 1, column: 1, expected: 'valid JSON' };
        const message = `the body is not valid JSON: expected ${at.expected} at line ${at.line}, column ${at.column} (position ${at.position}); ${(cause as Error).message}`;
        done(new InvalidJsonError(message, at), undefined);
      }
    },
  );

  app.addHook('onRequest', async (request, reply) => {
    const bearer = readBearerToken(request.headers.authorization);
    if (!bearer.ok) {
      reply.header('www-authenticate', 'Bearer realm="creditops"');
      return sendError(reply, 401, bearer.error, bearer.message);
    }
    const agent = await authenticateAgent(store, bearer.token);
    if (agent === null) {
      reply.header('www-authenticate', 'Bearer realm="creditops", error="invalid_token"');
      return sendError(
        reply,
        401,
        'unknown_token',
        'the bearer token does not belong to any enrolled agent: enrol with `creditops agent enroll <name>` (or --rotate for a new token) and configure the agent with that token',
      );
    }
    request.agent = agent;
  });

  app.addHook('preParsing', async (request, reply) => {
    const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') {
      return sendError(
        reply,
        415,
        'unsupported_media_type',
        `a push must be sent as "Content-Type: application/json"${type ? `, not "${type}"` : ' (the header is missing)'}`,
      );
    }
  });

  app.addHook('onResponse', async (request, reply) => {
    const result = pushResultForStatus(reply.statusCode);
    metrics.countPush(result, reply.elapsedTime / 1000);
    if (result !== 'ok') {
      request.log.warn({ agent: request.agent?.name, status: reply.statusCode, result }, 'push refused');
    }
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof InvalidJsonError) {
      return sendError(reply, 400, 'invalid_json', error.message, { location: error.location });
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || error.statusCode === 413) {
      return sendError(
        reply,
        413,
        'body_too_large',
        `the push body exceeds the collector's limit of ${limit} bytes (${formatBytes(limit)}, collector.bodyLimitBytes); send fewer families or raise the limit`,
        { limitBytes: limit },
      );
    }
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return sendError(
        reply,
        415,
        'unsupported_media_type',
        'a push must be sent as "Content-Type: application/json"',
      );
    }
    if (error.statusCode !== undefined && error.statusCode < 500) {
      return sendError(reply, error.statusCode, 'bad_request', error.message);
    }
    request.log.error({ err: error, agent: request.agent?.name }, 'push failed');
    // 503 rather than 500: the agent keeps its check results and retries.
    return sendError(
      reply,
      503,
      'store_unavailable',
      `the collector could not store the push, try again: ${error.message}`,
    );
  });

  app.post(
    '/api/v1/push',
    { schema: pushRouteSchema, bodyLimit: limit },
    async (request: FastifyRequest, reply) => {
      const agent = request.agent!;
      const errors = checkPushPayload(request.body);
      if (errors.length > 0) {
        const listed = errors
          .slice(0, 10)
          .map((e) => `${e.path}: ${e.message}`)
          .join('; ');
        return sendError(
          reply,
          400,
          'invalid_payload',
          `the push does not match protocol version ${PROTOCOL_VERSION}: ${errors.length} problem(s): ${listed}${errors.length > 10 ? '; …' : ''}`,
          { errors },
        );
      }
      const payload = request.body as PushPayload;
      if (payload.agent.name !== agent.name) {
        return sendError(
          reply,
          403,
          'agent_name_mismatch',
          `the token belongs to agent "${agent.name}" but the push says it comes from "${payload.agent.name}"; set the agent's name to "${agent.name}" or enrol "${payload.agent.name}"`,
        );
      }

      // A restart moves startedAt forward; an older start still pushing is a second process
      // using the same token. Its check results would collide with the other's sequence numbers,
      // so it is refused (and keeps them in its outbox) until someone gives it its own name.
      const started = Date.parse(payload.agent.startedAt);
      const newest = newestProcess.get(agent.id);
      const silentForMs = newest ? now() - newest.seenMs : Number.POSITIVE_INFINITY;
      // Once the newer process has been silent for the staleness window, it is gone (or the clock
      // was set back before a restart): the older start is accepted again.
      const staleMs = config.staleAfterIntervals * payload.agent.intervalSeconds * 1000;
      if (newest && started < newest.started && silentForMs <= staleMs) {
        return sendError(
          reply,
          409,
          'duplicate_agent',
          `another agent process (started ${new Date(newest.started).toISOString()}) already pushes as "${agent.name}" with this token; this one started ${payload.agent.startedAt}. Each agent needs its own name and token: enrol this one under another name`,
        );
      }
      newestProcess.set(agent.id, { started, seenMs: now() });

      const nowMs = now();
      const problems = fleet.ingest(agent, payload.families, payload.agent.intervalSeconds, nowMs);
      if (problems.length > 0) {
        // Check results are evidence and do not depend on the metrics: they are stored even when
        // the metrics are refused, so one bad family cannot make an agent's outbox grow without
        // end. The agent does not count as seen: its metrics are missing.
        const stored = await recordCheckResults(store, agent.id, payload.checks, { receivedAt: nowMs });
        metrics.checkResultsReceived += payload.checks.length;
        metrics.checkResultsStored += stored.inserted;
        const conflictOnly = problems.every((p) => p.kind === 'type_conflict');
        return sendError(
          reply,
          conflictOnly ? 409 : 400,
          conflictOnly ? 'metric_type_conflict' : 'invalid_metrics',
          `the push's metrics were refused (its ${payload.checks.length} check result(s) were stored): ${problems[0]!.message}${problems.length > 1 ? ` (and ${problems.length - 1} more problem(s))` : ''}`,
          { problems, acked: stored.acked },
        );
      }
      const outcome = await recordPush(
        store,
        agent.id,
        {
          address: request.ip ?? null,
          intervalSeconds: payload.agent.intervalSeconds,
          inventory: payload.inventory,
        },
        payload.checks,
        { receivedAt: nowMs },
      );
      metrics.checkResultsReceived += payload.checks.length;
      metrics.checkResultsStored += outcome.inserted;
      request.log.debug(
        { agent: agent.name, families: payload.families.length, acked: outcome.acked.length },
        'push accepted',
      );
      return { acked: outcome.acked };
    },
  );
}
