/** Options and helpers the endpoint probes share. */
import { readFileSync } from 'node:fs';
import { type Static, Type } from '@sinclair/typebox';
import { MetricRegistry } from '../../lib/metrics.js';

export const TlsClientOptions = {
  /** Trusted CA certificates (PEM text); the system's roots when neither this nor caFile is set. */
  ca: Type.Optional(Type.String({ minLength: 1 })),
  /** A PEM file of trusted CA certificates. */
  caFile: Type.Optional(Type.String({ minLength: 1 })),
  /** SNI and the name the certificate must carry; the URL's host by default. */
  serverName: Type.Optional(Type.String({ minLength: 1 })),
  /** Connect to this address instead of resolving the host name (like curl --resolve). */
  connectTo: Type.Optional(Type.String({ minLength: 1 })),
  /** @defaultValue 30 */
  warnDays: Type.Number({ default: 30 }),
  /** @defaultValue 7 */
  critDays: Type.Number({ default: 7 }),
};

export const TlsClientSchema = Type.Object(TlsClientOptions);
export type TlsClient = Partial<Static<typeof TlsClientSchema>>;

export function caText(options: TlsClient): string | undefined {
  if (options.ca) return options.ca;
  if (options.caFile) return readFileSync(options.caFile, 'utf8');
  return undefined;
}

export function probeRegistry(): MetricRegistry {
  return new MetricRegistry();
}

export function errorCode(error: unknown): string {
  const e = error as { code?: string; message?: string };
  return e.code ?? e.message ?? String(error);
}

export function isIp(host: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(':');
}
