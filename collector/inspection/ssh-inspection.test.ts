/** A host without an agent, inspected over a real sshd on loopback: report, check results, account drift. */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshd, type TestSshd } from '../../probes/hosts/test-sshd.js';
import { driftResults } from '../accounts/drift.js';
import { buildApp } from '../app.js';
import { type CollectorConfig, loadCollectorConfig } from '../config.js';
import { getAgentByName } from '../store/agents.js';
import { listCheckResults } from '../store/check-results.js';
import { openStore, type Store } from '../store/store.js';

let sshd: TestSshd;
let store: Store;
let app: ReturnType<typeof buildApp>;

beforeAll(async () => {
  sshd = await startSshd();
  const defaults = loadCollectorConfig();
  const config: CollectorConfig = {
    collector: {
      ...defaults.collector,
      dataDir: join(sshd.dir, 'data'),
      ticketSweepSeconds: 0,
      inspection: {
        ...defaults.collector.inspection,
        hosts: [
          {
            name: 'db2',
            ssh: {
              host: '127.0.0.1',
              port: sshd.port,
              username: sshd.username,
              privateKeyPath: sshd.clientKey,
              knownHostsPath: sshd.knownHosts,
            },
          },
        ],
      },
    },
  };
  store = await openStore(config.collector.dataDir);
  app = buildApp({ config, store, log: pino({ level: 'silent' }), probing: { schedule: false } });
  await app.ready();
}, 30_000);

afterAll(async () => {
  await app?.close();
  await store?.close();
  sshd?.stop();
  rmSync(join(sshd.dir, 'data'), { recursive: true, force: true });
});

describe('inspection over SSH', () => {
  it('inspects the host, stores the report and the check results; its accounts can be baselined', {
    timeout: 60_000,
  }, async () => {
    const [report] = await app.probing.inspections.runAll('manual', ['db2']);
    expect(report!.host).toBe('db2');
    const ids = new Set(report!.checks.map((c) => c.check));
    for (const id of [
      'security.accounts.uid0',
      'security.ssh.config',
      'security.network.listening_ports',
      'accounts.inventory',
    ]) {
      expect(ids.has(id), id).toBe(true);
    }
    for (const c of report!.checks) expect(c.summary).toMatch(/\S{4,}/);

    const source = await getAgentByName(store, 'creditops-collector');
    const rows = await listCheckResults(store, source!.id);
    expect(rows.some((r) => r.check === 'security.accounts.uid0' && r.target === 'db2')).toBe(true);
    expect(rows.some((r) => r.check === 'accounts.inventory' && r.target === 'db2')).toBe(true);
    const { results } = await driftResults(store, 'db2', 'creditops-collector');
    expect(results[0]!.summary).toContain('尚无经批准的账户基线');
  });
});
