/**
 * TLS certificate probe: connects with SNI set to the host name and reports the leaf's expiry and
 * the verified chain's expiry separately. An expired certificate is still read (the handshake is
 * not aborted) so its negative days and the reason "expired" are reported, distinct from
 * "unreachable" when no handshake happened at all.
 */
import { connect } from 'node:tls';
import { Type } from '@sinclair/typebox';
import type { ProbeDescriptor, ProbeResult } from '../types.js';
import { DAY_MS, inspectTls, parseAnchors, type TlsFacts, writeTlsMetrics } from './certificates.js';
import { caText, errorCode, isIp, probeRegistry, type TlsClient, TlsClientOptions } from './common.js';

export type TlsReason =
  | 'ok'
  | 'expiring'
  | 'expired'
  | 'chain_expired'
  | 'untrusted'
  | 'hostname_mismatch'
  | 'unreachable';

export interface TlsVerdict {
  status: ProbeResult['status'];
  reason: TlsReason;
  summary: string;
  leafDaysLeft: number | undefined;
  chainDaysLeft: number | undefined;
}

/** The verdict on what a handshake showed, shared by the TLS and HTTPS probes. */
export function judgeTls(tls: TlsFacts, now: number, options: TlsClient, target: string): TlsVerdict {
  const warnDays = options.warnDays ?? 30;
  const critDays = options.critDays ?? 7;
  const leafDays = tls.leaf ? Math.trunc((tls.leaf.notAfter - now) / DAY_MS) : undefined;
  const chainEnd =
    tls.verifiedChain.length > 0 ? Math.min(...tls.verifiedChain.map((c) => c.notAfter)) : undefined;
  const chainDays = chainEnd === undefined ? undefined : Math.trunc((chainEnd - now) / DAY_MS);
  const base = { leafDaysLeft: leafDays, chainDaysLeft: chainDays };
  if (tls.leaf && tls.leaf.notAfter < now) {
    return {
      ...base,
      status: 'CRIT',
      reason: 'expired',
      summary: `${target} 的证书已过期 ${-leafDays!} 天（${new Date(tls.leaf.notAfter).toISOString().slice(0, 10)} 到期）`,
    };
  }
  if (chainEnd !== undefined && chainEnd < now) {
    return {
      ...base,
      status: 'CRIT',
      reason: 'chain_expired',
      summary: `${target} 的证书链中有已过期的证书（${-chainDays!} 天前）`,
    };
  }
  if (
    tls.authorizationError === 'ERR_TLS_CERT_ALTNAME_INVALID' ||
    /altname|hostname/i.test(tls.authorizationError ?? '')
  ) {
    return {
      ...base,
      status: 'CRIT',
      reason: 'hostname_mismatch',
      summary: `${target} 返回的证书与主机名 ${tls.serverName ?? ''} 不符（${tls.leaf?.subject ?? ''}）`,
    };
  }
  if (!tls.authorized || chainDays === undefined) {
    return {
      ...base,
      status: 'CRIT',
      reason: 'untrusted',
      summary: `${target} 的证书不受信任：${tls.authorizationError ?? '无法建立可信证书链'}`,
    };
  }
  const days = Math.min(leafDays!, chainDays);
  if (days < warnDays) {
    return {
      ...base,
      status: days < critDays ? 'CRIT' : 'WARN',
      reason: 'expiring',
      summary: `${target} 的${leafDays! <= chainDays ? '证书' : '证书链'}将在 ${days} 天后过期`,
    };
  }
  return {
    ...base,
    status: 'OK',
    reason: 'ok',
    summary: `${target} 的证书有效，还有 ${leafDays} 天到期（证书链 ${chainDays} 天），${tls.version}`,
  };
}

interface TlsProbeOptions extends TlsClient {
  /** `host:port`. */
  target: string;
  timeoutSeconds?: number;
}

export const tlsCertificate: ProbeDescriptor<TlsProbeOptions> = {
  id: 'endpoint.tls',
  category: 'endpoint',
  title: 'TLS 证书有效期与证书链',
  remediation:
    '在证书到期前续期并部署完整的证书链（叶子证书 + 中间证书），确认服务按 SNI 返回正确的证书；过期证书须立即更换。',
  clause: 'GB/T 22239-2019 8.1.2.2（通信传输）',
  options: Type.Object({
    target: Type.String({
      // Ports 0–65535 spelled out, so a port out of range is caught by check-config.
      pattern:
        '^([^\\s:]+|\\[[0-9a-fA-F:]+\\]):([0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$',
      description: 'host:port with a port from 0 to 65535, e.g. credit.example.gov.cn:443',
    }),
    timeoutSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 120, default: 10 }),
    ...TlsClientOptions,
  }),
  run({ options, now }) {
    const started = performance.now();
    const i = options.target.lastIndexOf(':');
    const host = options.target.slice(0, i).replace(/^\[|\]$/g, '');
    const port = Number(options.target.slice(i + 1));
    const serverName = options.serverName ?? (isIp(host) ? undefined : host);
    const anchors = parseAnchors(caText(options));
    const registry = probeRegistry();
    return new Promise<ProbeResult[]>((resolve) => {
      let done = false;
      const finish = (result: ProbeResult) => {
        if (done) return;
        done = true;
        registry
          .gauge('probe_success', 'Displays whether or not the probe was a success')
          .value(result.status === 'OK' ? 1 : 0);
        registry
          .gauge('probe_duration_seconds', 'Returns how long the probe took to complete in seconds')
          .value((performance.now() - started) / 1000);
        resolve([{ ...result, target: options.target, metrics: registry.collect() }]);
      };
      const socket = connect({
        host: options.connectTo ?? host,
        port,
        ...(serverName ? { servername: serverName } : {}),
        ...(caText(options) ? { ca: caText(options) } : {}),
        // Read the certificate even when it does not verify: an expired one must still say by how much.
        rejectUnauthorized: false,
        timeout: (options.timeoutSeconds ?? 10) * 1000,
      });
      socket.once('secureConnect', () => {
        const facts = inspectTls(socket, anchors, now(), serverName ?? host);
        socket.destroy();
        writeTlsMetrics(registry, facts);
        const verdict = judgeTls(facts, now(), options, options.target);
        finish({
          status: verdict.status,
          summary: verdict.summary,
          details: {
            reason: verdict.reason,
            leafDaysLeft: verdict.leafDaysLeft,
            chainDaysLeft: verdict.chainDaysLeft ?? null,
            serverName: serverName ?? null,
            tlsVersion: facts.version,
            authorizationError: facts.authorizationError ?? null,
            leaf: facts.leaf ?? null,
            verifiedChain: facts.verifiedChain,
            presented: facts.presented,
          },
        });
      });
      socket.once('timeout', () => {
        socket.destroy();
        finish({
          status: 'CRIT',
          summary: `${options.target} 连接超时，无法检查证书`,
          details: { reason: 'unreachable', error: 'timeout' },
        });
      });
      socket.once('error', (error) => {
        finish({
          status: 'CRIT',
          summary: `${options.target} 无法建立 TLS 连接：${errorCode(error)}`,
          details: { reason: 'unreachable', error: errorCode(error) },
        });
      });
    });
  },
};
