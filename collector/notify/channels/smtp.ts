/**
 * Mail through an SMTP submission server with nodemailer, encrypted or not at all: implicit TLS
 * (port 465) or STARTTLS required (port 587, `requireTLS`); never a plaintext fallback, never an
 * unverified certificate. A CA file (PEM) replaces the system roots when the mail server has an
 * internal CA.
 *
 * Chinese subjects and display names go out as RFC 2047 encoded-words, attachment filenames as
 * RFC 2231 parameters (nodemailer's defaults), which common clients decode exactly.
 *
 * Failures name which of the usual suspects it is: certificate not trusted, host name not in
 * the certificate, server without STARTTLS, TLS mode not matching the port, authentication
 * failed, connection refused, timeout, recipients refused.
 */
import { readFileSync } from 'node:fs';
import { type Static, Type } from '@sinclair/typebox';
import nodemailer from 'nodemailer';
import { rateLimited, SlidingWindow } from './shared/rate-window.js';
import { resolveSecret } from './shared/secrets.js';
import { type ChannelDescriptor, type DeliveryResult, SecretRef } from './types.js';

export const SmtpOptions = Type.Object(
  {
    host: Type.String({ minLength: 1 }),
    /**
     * 'implicit-tls': TLS from the first byte (port 465). 'starttls': plaintext greeting, then
     * STARTTLS, required (port 587); the session is dropped if the server does not offer it.
     */
    mode: Type.Union([Type.Literal('implicit-tls'), Type.Literal('starttls')]),
    /** @defaultValue 465 for implicit-tls, 587 for starttls */
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    from: Type.Object(
      {
        address: Type.String({ pattern: '^[^\\s@<>]+@[^\\s@<>]+$' }),
        /** Display name, may be Chinese. @example "信用平台运维" */
        name: Type.Optional(Type.String()),
      },
      { additionalProperties: false },
    ),
    auth: Type.Optional(
      Type.Object(
        { user: Type.String({ minLength: 1 }), password: SecretRef },
        { additionalProperties: false },
      ),
    ),
    /** PEM file with the CA certificate(s) to trust instead of the system roots. */
    caFile: Type.Optional(Type.String({ minLength: 1 })),
    /** The name to verify the certificate against, when `host` is an IP address. */
    servername: Type.Optional(Type.String({ minLength: 1 })),
    /** @defaultValue 10000 */
    timeoutMs: Type.Integer({ default: 10_000, minimum: 100, maximum: 300_000 }),
    /** Messages per sliding minute; none by default. */
    perMinute: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000 })),
  },
  { additionalProperties: false },
);
export type SmtpOptions = Static<typeof SmtpOptions>;

interface SmtpFailure {
  code?: string;
  command?: string;
  response?: string;
  responseCode?: number;
  message?: string;
  rejected?: unknown[];
  cause?: { code?: string; message?: string };
}

const CERT_UNTRUSTED =
  /self[- ]signed|unable to (?:get|verify)|certificate chain|unknown ca|UNABLE_TO_|SELF_SIGNED/i;

/** Turns a nodemailer/Node error into the reason an operator can act on. */
export function describeSmtpFailure(
  err: unknown,
  options: Pick<SmtpOptions, 'host' | 'mode'> & { port: number },
): Extract<DeliveryResult, { ok: false }> {
  const e = (err ?? {}) as SmtpFailure;
  const detail = `${e.code ?? ''} ${e.message ?? String(err)}`.trim();
  const where = `${options.host}:${options.port}`;
  const fail = (retryable: boolean, zh: string, en: string) => ({
    ok: false as const,
    retryable,
    error: `${zh} / ${en} (${detail})`,
  });
  const text = `${e.message ?? ''} ${e.cause?.message ?? ''} ${e.cause?.code ?? ''}`;
  if (e.code === 'EAUTH') {
    return fail(
      false,
      `邮件服务器 ${where} 认证失败：用户名或密码错误`,
      `authentication to ${where} failed: wrong user or password`,
    );
  }
  if (e.code === 'ENOAUTH') {
    return fail(
      false,
      `邮件服务器 ${where} 要求认证，但未配置用户名和密码`,
      `${where} requires authentication; configure auth`,
    );
  }
  if (e.code === 'ETLS' && e.command === 'STARTTLS' && /^[45]/.test(e.response ?? '')) {
    return fail(
      false,
      `邮件服务器 ${where} 不支持 STARTTLS，已中止，未以明文发送任何内容；请改用 465 端口的 implicit-tls，或在服务器上启用 STARTTLS`,
      `${where} does not offer STARTTLS; aborted, nothing was sent in plaintext (use implicit-tls on 465, or enable STARTTLS on the server)`,
    );
  }
  if (/ERR_TLS_CERT_ALTNAME_INVALID|Hostname\/IP does not match/i.test(text)) {
    return fail(
      false,
      `邮件服务器证书与主机名 ${options.host} 不符；请使用证书中的名称，或配置 servername`,
      `the server certificate does not match host ${options.host}; use the name in the certificate or set servername`,
    );
  }
  if (/CERT_HAS_EXPIRED|certificate has expired/i.test(text)) {
    return fail(false, `邮件服务器 ${where} 的证书已过期`, `the certificate of ${where} has expired`);
  }
  if (CERT_UNTRUSTED.test(text)) {
    return fail(
      false,
      `邮件服务器 ${where} 的证书不受信任；请在 caFile 中配置签发它的 CA 证书`,
      `the certificate of ${where} is not trusted; put the issuing CA in caFile`,
    );
  }
  if (/wrong version number|packet length too long|unknown protocol|WRONG_VERSION_NUMBER/i.test(text)) {
    return fail(
      false,
      `与 ${where} 的 TLS 握手失败：该端口似乎不是 implicit TLS（465）；587 端口请使用 mode: starttls`,
      `TLS handshake with ${where} failed: the port does not seem to speak implicit TLS; use mode starttls on 587`,
    );
  }
  if (/ECONNREFUSED/.test(`${text} ${e.code ?? ''}`)) {
    return fail(
      true,
      `连接邮件服务器 ${where} 被拒绝：服务未运行或端口错误`,
      `connection to ${where} refused: server down or wrong port`,
    );
  }
  if (e.code === 'ETIMEDOUT' || e.code === 'ECONNECTION' || /ETIMEDOUT|timeout/i.test(text)) {
    const hint =
      options.mode === 'starttls' &&
      (/greeting/i.test(text) || (err as { timeoutType?: string }).timeoutType === 'GREETING_TIMEOUT')
        ? {
            zh: '；若该端口为 465（implicit TLS），请使用 mode: implicit-tls',
            en: '; if this is port 465 (implicit TLS), use mode implicit-tls',
          }
        : { zh: '', en: '' };
    return fail(
      true,
      `连接邮件服务器 ${where} 超时或中断${hint.zh}`,
      `connection to ${where} timed out or broke${hint.en}`,
    );
  }
  if (e.code === 'EENVELOPE') {
    return fail(false, '收件人或发件人被邮件服务器拒绝', 'the server refused the sender or the recipients');
  }
  if (e.responseCode !== undefined) {
    const retryable = e.responseCode >= 400 && e.responseCode < 500;
    return fail(
      retryable,
      `邮件服务器拒绝了邮件（${e.responseCode}）`,
      `the server refused the message (${e.responseCode})`,
    );
  }
  return fail(true, `发送邮件失败（${where}）`, `sending mail via ${where} failed`);
}

export const smtp: ChannelDescriptor<typeof SmtpOptions> = {
  kind: 'smtp',
  title: '电子邮件（SMTP）',
  options: SmtpOptions,
  limits: {},
  create(options, deps) {
    const port = options.port ?? (options.mode === 'implicit-tls' ? 465 : 587);
    let ca: string | undefined;
    if (options.caFile) {
      try {
        ca = readFileSync(options.caFile, 'utf8');
      } catch (cause) {
        throw new Error(
          `smtp.caFile: 无法读取 CA 文件 ${options.caFile} / cannot read CA file ${options.caFile}`,
          { cause },
        );
      }
    }
    const password = options.auth
      ? resolveSecret(options.auth.password, deps.env ?? process.env, 'smtp.auth.password')
      : undefined;
    const transport = nodemailer.createTransport({
      host: options.host,
      port,
      secure: options.mode === 'implicit-tls',
      // STARTTLS mode: upgrade is mandatory; nodemailer drops the session rather than go on in
      // plaintext, and ignoreTLS / opportunisticTLS stay off.
      requireTLS: options.mode === 'starttls',
      ignoreTLS: false,
      opportunisticTLS: false,
      ...(options.auth ? { auth: { user: options.auth.user, pass: password! } } : {}),
      tls: {
        rejectUnauthorized: true,
        minVersion: 'TLSv1.2',
        ...(ca ? { ca } : {}),
        ...(options.servername ? { servername: options.servername } : {}),
      },
      connectionTimeout: options.timeoutMs,
      greetingTimeout: options.timeoutMs,
      // Longer than the greeting timeout, so a server that never greets (an implicit-TLS port
      // spoken to in STARTTLS mode) is reported as such rather than as an idle socket.
      socketTimeout: options.timeoutMs * 2,
      // Attachments come from our own code as content, never as paths or URLs to fetch.
      disableFileAccess: true,
      disableUrlAccess: true,
      logger: false,
    });
    const now = deps.now ?? Date.now;
    const window = options.perMinute ? new SlidingWindow(options.perMinute) : undefined;
    return {
      kind: 'smtp',
      async send(message): Promise<DeliveryResult> {
        if (message.to.length === 0)
          return { ok: false, retryable: false, error: '没有收件人 / no recipients' };
        if (window) {
          const slot = window.tryAcquire(now());
          if (!slot.ok) return rateLimited('邮件 / mail', options.perMinute!, slot.retryAfterMs);
        }
        try {
          const info = await transport.sendMail({
            from: options.from.name
              ? { name: options.from.name, address: options.from.address }
              : options.from.address,
            to: message.to,
            subject: message.subject,
            text: message.text,
            attachments: (message.attachments ?? []).map((a) => ({
              filename: a.filename,
              content: typeof a.content === 'string' ? a.content : Buffer.from(a.content),
              ...(a.contentType ? { contentType: a.contentType } : {}),
            })),
          });
          const rejected = ((info.rejected ?? []) as (string | { address: string })[]).map((r) =>
            typeof r === 'string' ? r : r.address,
          );
          if (rejected.length > 0) {
            deps.log.warn(
              { channel: 'smtp', rejected: rejected.length },
              'smtp server refused some recipients',
            );
            return {
              ok: false,
              retryable: false,
              error: `邮件服务器拒收部分收件人 / the server refused some recipients: ${rejected.join(', ')}`,
              failedRecipients: rejected,
            };
          }
          deps.log.debug({ channel: 'smtp', recipients: message.to.length }, 'mail accepted');
          return { ok: true, providerMessageId: info.messageId };
        } catch (err) {
          const result = describeSmtpFailure(err, { host: options.host, mode: options.mode, port });
          deps.log.warn(
            { channel: 'smtp', code: (err as SmtpFailure).code, retryable: result.retryable },
            'mail not sent',
          );
          return result;
        }
      },
      async close() {
        transport.close();
      },
    };
  },
};
