import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer, type Server as NetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PostalMime from 'postal-mime';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { testDeps } from '../testing/test-deps.js';
import { makeCa, makeServerCert, type ServerCert, type TestCa } from '../testing/tls-certs.js';
import { type SmtpOptions, smtp } from './smtp.js';

const USER = 'ops@credit.example.gov.cn';
const PASSWORD = 'correct horse battery staple';

interface Received {
  raw: string;
  secure: boolean;
  envelopeTo: string[];
}

/** What the real SMTP server saw: sessions, authentications, deliveries. */
interface Observed {
  auths: { secure: boolean }[];
  mailFrom: { secure: boolean }[];
  delivered: Received[];
}

let dir: string;
let ca: TestCa;
let otherCa: TestCa;
let cert: ServerCert;
let certForOtherName: ServerCert;
const closers: (() => Promise<void>)[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'creditops-smtp-'));
  ca = makeCa('creditops test CA');
  otherCa = makeCa('some other CA');
  cert = makeServerCert(ca, { dns: ['localhost'], ips: ['127.0.0.1'] });
  certForOtherName = makeServerCert(ca, { dns: ['mail.credit.example.test'] });
  writeFileSync(join(dir, 'ca.pem'), ca.certPem);
  writeFileSync(join(dir, 'other-ca.pem'), otherCa.certPem);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

async function startSmtp(
  mode: 'implicit-tls' | 'starttls' | 'plaintext-only',
  serverCert: ServerCert = cert,
): Promise<{ port: number; observed: Observed }> {
  const observed: Observed = { auths: [], mailFrom: [], delivered: [] };
  const options: SMTPServerOptions = {
    secure: mode === 'implicit-tls',
    key: serverCert.keyPem,
    cert: serverCert.certPem,
    // A server that cannot upgrade: STARTTLS neither announced nor accepted.
    ...(mode === 'plaintext-only' ? { disabledCommands: ['STARTTLS'], allowInsecureAuth: true } : {}),
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, session, callback) {
      observed.auths.push({ secure: Boolean(session.secure) });
      if (auth.username === USER && auth.password === PASSWORD) return callback(null, { user: USER });
      return callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onMailFrom(_address, session, callback) {
      observed.mailFrom.push({ secure: Boolean(session.secure) });
      callback();
    },
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        observed.delivered.push({
          raw: Buffer.concat(chunks).toString('utf8'),
          secure: Boolean(session.secure),
          envelopeTo: session.envelope.rcptTo.map((r) => r.address),
        });
        callback();
      });
    },
  };
  const server = new SMTPServer(options);
  // A client that rejects the certificate drops the connection mid-handshake; the server reports
  // that as an 'error' event, which is expected here.
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.server.address() as AddressInfo).port, observed };
}

function channel(
  port: number,
  options: Partial<SmtpOptions> & Pick<SmtpOptions, 'mode'>,
  password = PASSWORD,
) {
  const { deps } = testDeps({ SMTP_PASSWORD: password });
  const ch = smtp.create(
    {
      host: '127.0.0.1',
      port,
      from: { address: 'noreply@credit.example.gov.cn', name: '信用平台运维中心' },
      auth: { user: USER, password: { env: 'SMTP_PASSWORD' } },
      caFile: join(dir, 'ca.pem'),
      timeoutMs: 3000,
      ...options,
    },
    deps,
  );
  closers.push(() => ch.close!());
  return ch;
}

const SUBJECT = '【P1】工单 FLT-2026-0042：数据库主机 db01 磁盘将满（剩余 3%）';
const ATTACHMENT = '巡检报告-2026年5月（db01）.pdf';
const message = {
  to: ['张三 <zhang.san@credit.example.gov.cn>'],
  subject: SUBJECT,
  text: '工单 FLT-2026-0042\n主机：db01\n摘要：/data 剩余 3%\n处理期限：2026-05-12 24:00\n',
  attachments: [
    {
      filename: ATTACHMENT,
      content: new Uint8Array([0x25, 0x50, 0x44, 0x46, 0x2d, 0x31]),
      contentType: 'application/pdf',
    },
  ],
};

async function expectDecodedExactly(received: Received) {
  // 8-bit header text would be a client-dependent guess: every Chinese header is encoded.
  const headers = received.raw.slice(0, received.raw.indexOf('\r\n\r\n'));
  expect(headers).toMatch(/^Subject: =\?UTF-8\?[BQ]\?/m);
  expect([...headers].every((c) => c.charCodeAt(0) < 0x80)).toBe(true);
  const parsed = await PostalMime.parse(received.raw);
  expect(parsed.subject).toBe(SUBJECT);
  expect(parsed.from).toEqual({ name: '信用平台运维中心', address: 'noreply@credit.example.gov.cn' });
  expect(parsed.to).toEqual([{ name: '张三', address: 'zhang.san@credit.example.gov.cn' }]);
  expect(parsed.text).toBe(message.text);
  expect(parsed.attachments).toHaveLength(1);
  expect(parsed.attachments[0]!.filename).toBe(ATTACHMENT);
  expect(parsed.attachments[0]!.mimeType).toBe('application/pdf');
  expect(new Uint8Array(parsed.attachments[0]!.content as ArrayBuffer)).toEqual(
    message.attachments[0]!.content,
  );
}

describe('smtp over implicit TLS (465 style)', () => {
  it('delivers, and the Chinese subject, display names and attachment name decode exactly', async () => {
    const { port, observed } = await startSmtp('implicit-tls');
    const result = await channel(port, { mode: 'implicit-tls' }).send(message);
    expect(result).toMatchObject({ ok: true, providerMessageId: expect.stringMatching(/^<.+@.+>$/) });
    expect(observed.delivered).toHaveLength(1);
    expect(observed.delivered[0]!.secure).toBe(true);
    expect(observed.delivered[0]!.envelopeTo).toEqual(['zhang.san@credit.example.gov.cn']);
    await expectDecodedExactly(observed.delivered[0]!);
  });

  it('refuses a certificate from a CA not in caFile, with a clear reason', async () => {
    const { port, observed } = await startSmtp('implicit-tls');
    const result = await channel(port, { mode: 'implicit-tls', caFile: join(dir, 'other-ca.pem') }).send(
      message,
    );
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(result.ok === false && result.error).toMatch(
      /^邮件服务器 127\.0\.0\.1:\d+ 的证书不受信任；请在 caFile 中配置签发它的 CA 证书 \/ the certificate of .* is not trusted/,
    );
    expect(observed.auths).toHaveLength(0);
    expect(observed.delivered).toHaveLength(0);
  });

  it('checks the host name against the certificate, and accepts servername', async () => {
    const { port, observed } = await startSmtp('implicit-tls', certForOtherName);
    const mismatch = await channel(port, { mode: 'implicit-tls' }).send(message);
    expect(mismatch.ok === false && mismatch.error).toMatch(/^邮件服务器证书与主机名 127\.0\.0\.1 不符/);
    const named = await channel(port, { mode: 'implicit-tls', servername: 'mail.credit.example.test' }).send(
      message,
    );
    expect(named).toMatchObject({ ok: true });
    expect(observed.delivered).toHaveLength(1);
  });

  it('says so when the port speaks STARTTLS instead', async () => {
    const { port } = await startSmtp('starttls');
    const result = await channel(port, { mode: 'implicit-tls' }).send(message);
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(result.ok === false && result.error).toMatch(
      /该端口似乎不是 implicit TLS（465）；587 端口请使用 mode: starttls/,
    );
  });
});

describe('smtp with STARTTLS required (587 style)', () => {
  it('delivers only after the upgrade, decoding exactly', async () => {
    const { port, observed } = await startSmtp('starttls');
    const result = await channel(port, { mode: 'starttls' }).send(message);
    expect(result).toMatchObject({ ok: true });
    expect(observed.auths).toEqual([{ secure: true }]);
    expect(observed.mailFrom).toEqual([{ secure: true }]);
    expect(observed.delivered[0]!.secure).toBe(true);
    await expectDecodedExactly(observed.delivered[0]!);
  });

  it('refuses to go on without STARTTLS, and sends nothing in plaintext', async () => {
    const { port: smtpPort, observed } = await startSmtp('plaintext-only');
    // A recording relay in front of the server: every byte the client sends is plaintext here.
    const clientBytes: Buffer[] = [];
    const relay: NetServer = createServer((client) => {
      const upstream = connect(smtpPort, '127.0.0.1');
      client.on('data', (d: Buffer) => clientBytes.push(d));
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>((resolve) => relay.close(() => resolve())));
    const result = await channel((relay.address() as AddressInfo).port, { mode: 'starttls' }).send(message);
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(result.ok === false && result.error).toMatch(
      /^邮件服务器 127\.0\.0\.1:\d+ 不支持 STARTTLS，已中止，未以明文发送任何内容.* \/ .* does not offer STARTTLS; aborted, nothing was sent in plaintext/,
    );
    const sent = Buffer.concat(clientBytes).toString('latin1');
    const commands = sent
      .split('\r\n')
      .filter(Boolean)
      .map((l) => l.split(' ')[0]!.toUpperCase());
    expect(commands.every((c) => ['EHLO', 'STARTTLS', 'QUIT'].includes(c))).toBe(true);
    expect(sent).not.toContain(Buffer.from(PASSWORD).toString('base64'));
    expect(observed.auths).toHaveLength(0);
    expect(observed.mailFrom).toHaveLength(0);
    expect(observed.delivered).toHaveLength(0);
  });

  it('refuses an untrusted certificate during the upgrade', async () => {
    const { port, observed } = await startSmtp('starttls');
    const result = await channel(port, { mode: 'starttls', caFile: join(dir, 'other-ca.pem') }).send(message);
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(result.ok === false && result.error).toMatch(/的证书不受信任/);
    expect(observed.auths).toHaveLength(0);
  });

  it('reports a wrong password as an authentication failure', async () => {
    const { port, observed } = await startSmtp('starttls');
    const result = await channel(port, { mode: 'starttls' }, 'wrong password').send(message);
    expect(result).toMatchObject({ ok: false, retryable: false });
    expect(result.ok === false && result.error).toMatch(
      /^邮件服务器 127\.0\.0\.1:\d+ 认证失败：用户名或密码错误 \/ authentication to .* failed/,
    );
    expect(result.ok === false && result.error).not.toContain('wrong password');
    expect(observed.auths).toEqual([{ secure: true }]);
    expect(observed.delivered).toHaveLength(0);
  });

  it('hints at implicit TLS when the greeting never comes', async () => {
    const { port } = await startSmtp('implicit-tls');
    const result = await channel(port, { mode: 'starttls', timeoutMs: 500 }).send(message);
    expect(result).toMatchObject({ ok: false, retryable: true });
    expect(result.ok === false && result.error).toMatch(
      /若该端口为 465（implicit TLS），请使用 mode: implicit-tls/,
    );
  });
});

describe('smtp connection problems', () => {
  it('reports a refused connection as retryable', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const result = await channel(port, { mode: 'implicit-tls' }).send(message);
    expect(result).toMatchObject({ ok: false, retryable: true });
    expect(result.ok === false && result.error).toMatch(
      /^连接邮件服务器 127\.0\.0\.1:\d+ 被拒绝：服务未运行或端口错误 \/ connection to .* refused/,
    );
  });

  it('fails at creation when the CA file is missing', () => {
    const { deps } = testDeps({});
    expect(() =>
      smtp.create(
        {
          host: 'localhost',
          mode: 'starttls',
          from: { address: 'a@b.c' },
          caFile: join(dir, 'missing.pem'),
          timeoutMs: 1000,
        },
        deps,
      ),
    ).toThrow(/无法读取 CA 文件/);
  });
});
