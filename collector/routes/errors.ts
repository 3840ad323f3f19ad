/** The JSON error body every API route answers with: a stable code and a sentence for people. */
import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';

export const ErrorBody = Type.Object(
  {
    error: Type.String({ description: 'stable, machine-readable code' }),
    message: Type.String({ description: 'what is wrong and what to do, in English' }),
  },
  { additionalProperties: true },
);

export interface ErrorBody {
  error: string;
  message: string;
  [detail: string]: unknown;
}

export function sendError(
  reply: FastifyReply,
  status: number,
  error: string,
  message: string,
  details: Record<string, unknown> = {},
): FastifyReply {
  const body: ErrorBody = { error, message, ...details };
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}
