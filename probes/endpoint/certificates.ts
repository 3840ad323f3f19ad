/**
 * What a TLS connection presented, judged the way the probes report it: the leaf's expiry, and the
 * expiry of the chain that actually verifies (built trust-anchor-first, as OpenSSL does), which is
 * not the same as the earliest expiry among every certificate the server sent — an extra expired
 * cross-signed certificate that no verified path uses must not raise an alarm.
 */
import { X509Certificate } from 'node:crypto';
import { rootCertificates, type TLSSocket } from 'node:tls';
import type { MetricRegistry } from '../../lib/metrics.js';

export interface CertificateFacts {
  subject: string;
  issuer: string;
  notAfter: number;
  fingerprint256: string;
}

export interface TlsFacts {
  serverName: string | undefined;
  /** `TLSv1.3` as Node reports it, and `TLS 1.3` as blackbox_exporter labels it. */
  protocol: string | null;
  version: string;
  authorized: boolean;
  authorizationError: string | undefined;
  leaf: CertificateFacts | undefined;
  /** Everything the server sent that Node linked into its chain, leaf first. */
  presented: CertificateFacts[];
  /** The path that verifies, leaf to trust anchor; empty when none does. */
  verifiedChain: CertificateFacts[];
}

function facts(cert: X509Certificate): CertificateFacts {
  return {
    subject: cert.subject.replace(/\n/g, ', '),
    issuer: cert.issuer.replace(/\n/g, ', '),
    notAfter: Date.parse(cert.validTo),
    fingerprint256: cert.fingerprint256,
  };
}

function presentedChain(socket: TLSSocket): X509Certificate[] {
  const out: X509Certificate[] = [];
  const seen = new Set<string>();
  let cert = socket.getPeerCertificate(true) as ReturnType<TLSSocket['getPeerCertificate']> & {
    issuerCertificate?: unknown;
  };
  while (cert?.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    out.push(new X509Certificate(cert.raw));
    cert = cert.issuerCertificate as typeof cert;
  }
  return out;
}

function issued(issuer: X509Certificate, subject: X509Certificate): boolean {
  try {
    return subject.checkIssued(issuer) && subject.verify(issuer.publicKey);
  } catch {
    // A key type Node cannot verify with cannot be part of a path we vouch for.
    return false;
  }
}

/** Builds the verifying path trust-anchor-first; at each step prefers an issuer valid at `now`. */
export function verifiedPath(
  presented: X509Certificate[],
  anchors: X509Certificate[],
  now: number,
): X509Certificate[] {
  const leaf = presented[0];
  if (!leaf) return [];
  const path = [leaf];
  let current = leaf;
  for (let depth = 0; depth < 10; depth++) {
    const anchor = anchors.find((a) => issued(a, current));
    if (anchor) {
      if (anchor.fingerprint256 !== current.fingerprint256) path.push(anchor);
      return path;
    }
    const candidates = presented.filter((c) => !path.includes(c) && issued(c, current));
    const next =
      candidates.find((c) => Date.parse(c.validFrom) <= now && Date.parse(c.validTo) >= now) ?? candidates[0];
    if (!next) return [];
    path.push(next);
    current = next;
  }
  return [];
}

export function parseAnchors(ca: string | undefined): X509Certificate[] {
  const pems = ca
    ? (ca.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [])
    : rootCertificates;
  return pems.map((p) => new X509Certificate(p));
}

export function tlsVersionLabel(protocol: string | null): string {
  const m = /^TLSv(\d)(?:\.(\d))?$/.exec(protocol ?? '');
  return m ? `TLS ${m[1]}.${m[2] ?? '0'}` : 'unknown';
}

export function inspectTls(
  socket: TLSSocket,
  anchors: X509Certificate[],
  now: number,
  serverName?: string,
): TlsFacts {
  const chain = presentedChain(socket);
  const path = socket.authorized || chain.length > 0 ? verifiedPath(chain, anchors, now) : [];
  const authorizationError = socket.authorizationError ? String(socket.authorizationError) : undefined;
  return {
    serverName,
    protocol: socket.getProtocol(),
    version: tlsVersionLabel(socket.getProtocol()),
    authorized: socket.authorized,
    authorizationError,
    leaf: chain[0] ? facts(chain[0]) : undefined,
    presented: chain.map(facts),
    verifiedChain: path.map(facts),
  };
}

/** blackbox_exporter's TLS metrics. */
export function writeTlsMetrics(registry: MetricRegistry, tls: TlsFacts): void {
  if (tls.presented.length > 0) {
    registry
      .gauge('probe_ssl_earliest_cert_expiry', 'Returns last SSL chain expiry in unixtime')
      .value(Math.min(...tls.presented.map((c) => c.notAfter)) / 1000);
  }
  if (tls.verifiedChain.length > 0) {
    registry
      .gauge('probe_ssl_last_chain_expiry_timestamp_seconds', 'Returns last SSL chain expiry in timestamp')
      .value(Math.min(...tls.verifiedChain.map((c) => c.notAfter)) / 1000);
  }
  registry
    .gauge('probe_tls_version_info', 'Returns the TLS version used or NaN when unknown')
    .set({ version: tls.version }, 1);
  if (tls.leaf) {
    registry.gauge('probe_ssl_last_chain_info', 'Contains SSL leaf certificate information').set(
      {
        fingerprint_sha256: tls.leaf.fingerprint256.replace(/:/g, '').toLowerCase(),
        subject: tls.leaf.subject,
        issuer: tls.leaf.issuer,
      },
      1,
    );
  }
}

export const DAY_MS = 86_400_000;
