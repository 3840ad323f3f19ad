/**
 * Marks a plugin as shared: its decorators and hooks apply to the instance that registers it, not
 * to a child context. This is what the fastify-plugin package does (the same well-known symbols
 * fastify reads), without adding a dependency for three assignments.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';

export function sharedPlugin<Options extends Record<string, unknown>>(
  name: string,
  dependencies: string[],
  plugin: (app: FastifyInstance, options: Options) => Promise<void>,
): FastifyPluginAsync<Options> {
  const fn = plugin as FastifyPluginAsync<Options> & Record<symbol, unknown>;
  fn[Symbol.for('skip-override')] = true;
  fn[Symbol.for('fastify.display-name')] = name;
  fn[Symbol.for('plugin-meta')] = { name, dependencies };
  return fn;
}
