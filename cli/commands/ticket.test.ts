// `creditops user add` and `creditops ticket …` as a person runs them: real processes against a
// collector listening on loopback.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Kit, ticketKit } from '../../collector/tickets/test-kit.js';
import { displayWidth } from '../../lib/text-width.js';
import { renderTable } from './ticket.js';

function creditops(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'cli/main.ts', ...args],
      { env: { ...process.env, ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

describe('creditops user / ticket', () => {
  let k: Kit;
  let url: string;
  let configFile: string;
  beforeAll(async () => {
    k = await ticketKit({ start: Date.now() });
    await k.app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(k.app.server.address() as { port: number }).port}`;
    configFile = join(k.dataDir, 'collector.yaml');
    writeFileSync(configFile, `collector:\n  dataDir: ${k.dataDir}\n`);
  });
  afterAll(() => k.close());

  it('adds a user, opens, lists and comments a ticket; a viewer is refused', async () => {
    const added = await creditops([
      'user',
      'add',
      '王五',
      '--role',
      'engineer',
      '-c',
      configFile,
      '--token-file',
      join(k.dataDir, 'wang.token'),
    ]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/^cro_[A-Za-z0-9_-]{43}\n$/);
    expect(added.stderr).toContain('只显示这一次');

    const tokenFile = ['--url', url, '--token-file', join(k.dataDir, 'wang.token')];
    const opened = await creditops([
      'ticket',
      ...tokenFile,
      'open',
      '--kind',
      'objection',
      '--title',
      '对失信记录的书面异议',
      '--host',
      'portal-01',
    ]);
    expect(opened.code, opened.stderr).toBe(0);
    expect(opened.stdout).toMatch(/^OBJ-\d{4}-0001 {2}待响应 {2}P3 {2}异议\n摘要：对失信记录的书面异议/);
    const number = opened.stdout.slice(0, opened.stdout.indexOf(' '));

    const listed = await creditops(['ticket', ...tokenFile, 'list']);
    expect(listed.stdout.split('\n')[0]).toMatch(
      /^编号\s+状态\s+级别\s+类型\s+主机\s+创建时间\s+期限\s+摘要$/,
    );
    expect(listed.stdout).toContain(number);

    const commented = await creditops(['ticket', ...tokenFile, 'comment', number, '已电话联系异议人']);
    expect(commented.stdout).toContain('已电话联系异议人');

    // Each process costs seconds (tsx): the viewer comes from the kit, not from another `user add`.
    const refused = await creditops(['ticket', '--url', url, 'resolve', number], {
      CREDITOPS_TOKEN: k.tokens.viewer,
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/HTTP 403 forbidden/);
  }, 60_000);

  it('aligns Chinese columns by display width', () => {
    expect(displayWidth('工单ab')).toBe(6);
    expect(renderTable(['编号', 'x'], [['a', '1']])).toBe('编号  x\n----  -\na     1\n');
  });
});
