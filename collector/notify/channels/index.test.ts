import { Writable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../lib/config-file.js';
import { type LoopbackServer, startLoopbackServer } from '../testing/loopback-http.js';
import { CHANNEL_KINDS, ChannelConfig, channels, createChannel } from './index.js';

const File = Type.Object({ channels: Type.Array(ChannelConfig) }, { additionalProperties: false });

function problems(yaml: string): string[] {
  try {
    parseConfig(File, yaml, 'collector.yaml');
  } catch (e) {
    if (e instanceof ConfigError) return e.message.split('\n');
    throw e;
  }
  return [];
}

let server: LoopbackServer | undefined;
afterEach(async () => server?.close());

describe('the channel registry', () => {
  it('names every descriptor by its key', () => {
    for (const kind of CHANNEL_KINDS) expect(channels[kind].kind).toBe(kind);
    expect(CHANNEL_KINDS).toEqual(['smtp', 'aliyun-sms', 'tencent-sms', 'sms-webhook', 'wecom', 'dingtalk']);
  });

  it('validates a configuration file by kind and fills defaults', () => {
    const config = parseConfig(
      File,
      [
        'channels:',
        '  - kind: wecom',
        '    key: { env: WECOM_KEY }',
        '  - kind: smtp',
        '    host: mail.example.gov.cn',
        '    mode: starttls',
        '    from: { address: noreply@example.gov.cn, name: 信用平台运维 }',
        '    auth: { user: noreply@example.gov.cn, password: { file: /etc/creditops/smtp.pass } }',
      ].join('\n'),
      'collector.yaml',
    );
    expect(config.channels[0]).toEqual({
      kind: 'wecom',
      key: { env: 'WECOM_KEY' },
      endpoint: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send',
      useMarkdown: true,
      perMinute: 20,
      timeoutMs: 10_000,
    });
    expect(config.channels[1]).toMatchObject({ kind: 'smtp', mode: 'starttls', timeoutMs: 10_000 });
  });

  it('reports mistakes against the kind in use, with file and line', () => {
    expect(problems('channels:\n  - kind: wecom\n    key: { env: WECOM_KEY }\n    perMinut: 10\n')).toEqual([
      'collector.yaml:4:5 channels.0.perMinut: unknown key (check the spelling; see the configuration reference)',
    ]);
    expect(problems('channels:\n  - kind: telegram\n')[0]).toMatch(
      /^collector\.yaml:2:\d+ channels\.0\.kind: must be one of "smtp", "aliyun-sms", "tencent-sms", "sms-webhook", "wecom", "dingtalk"/,
    );
  });

  it('does not accept a secret written inline', () => {
    const found = problems(
      'channels:\n  - kind: dingtalk\n    accessToken: 0123456789abcdef\n    secret: { env: DT_SECRET }\n',
    );
    expect(found.length).toBeGreaterThan(0);
    expect(found[0]).toMatch(/^collector\.yaml:3:\d+ channels\.0\.accessToken: must be object/);
  });

  it('never writes a secret into the logs', async () => {
    const TOKEN = 'tok-3f9a1c77e2';
    const SECRET = 'SECd41d8cd98f00b204e9800998ecf8427e';
    server = await startLoopbackServer((req) =>
      req.url.searchParams.get('sign')
        ? { json: { errcode: 310000, errmsg: 'sign not match' } }
        : { json: { errcode: 0, errmsg: 'ok' } },
    );
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const log = pino({ level: 'trace' }, sink);
    const config = parseConfig(
      File,
      `channels:\n  - kind: dingtalk\n    endpoint: ${server.url}/robot/send\n    accessToken: { env: DT_TOKEN }\n    secret: { env: DT_SECRET }\n`,
      'collector.yaml',
    );
    const ch = createChannel(config.channels[0]!, { log, env: { DT_TOKEN: TOKEN, DT_SECRET: SECRET } });
    const result = await ch.send({ to: [], subject: 't', text: 'x' });
    expect(result.ok).toBe(false);
    expect(lines.length).toBeGreaterThan(0);
    const all = lines.join('') + JSON.stringify(result);
    expect(all).not.toContain(TOKEN);
    expect(all).not.toContain(SECRET);
  });
});
