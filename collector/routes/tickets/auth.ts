/**
 * Bearer authentication of people (user tokens from `creditops user add`). Reading needs any
 * role; changing anything needs engineer or admin — the viewer (the bureau) can change nothing.
 */
import type { FastifyInstance } from 'fastify';
import { authenticateUser, type Role, type User } from '../../store/users.js';
import { sendError } from '../errors.js';
import { readBearerToken } from '../push/authenticate.js';

declare module 'fastify' {
  interface FastifyRequest {
    user: User | null;
  }
}

const WRITERS: readonly Role[] = ['admin', 'engineer'];

/** Adds the authentication hook to an encapsulated route plugin. */
export function requireUser(app: FastifyInstance, writers: readonly Role[] = WRITERS): void {
  if (!app.hasRequestDecorator('user')) app.decorateRequest('user', null);
  app.addHook('onRequest', async (request, reply) => {
    const bearer = readBearerToken(request.headers.authorization);
    if (!bearer.ok) {
      reply.header('www-authenticate', 'Bearer realm="creditops"');
      const message =
        bearer.error === 'missing_token'
          ? 'the Authorization header is missing: send "Authorization: Bearer <user token>" (from `creditops user add <name> --role …`)'
          : bearer.message;
      return sendError(reply, 401, bearer.error, message);
    }
    const user = await authenticateUser(app.collector.store, bearer.token);
    if (user === null) {
      reply.header('www-authenticate', 'Bearer realm="creditops", error="invalid_token"');
      return sendError(
        reply,
        401,
        'unknown_token',
        'the bearer token does not belong to any user: create one with `creditops user add <name> --role viewer|engineer|admin`',
      );
    }
    request.user = user;
    const reading = request.method === 'GET' || request.method === 'HEAD';
    if (!reading && !writers.includes(user.role)) {
      return sendError(
        reply,
        403,
        'forbidden',
        `user "${user.name}" has role ${user.role}, which may only read; this needs ${writers.join(' or ')}`,
      );
    }
  });
}
