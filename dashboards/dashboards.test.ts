// Checks the Grafana dashboards: each JSON parses, has a uid and a title, uses the provisioned
// datasource, and every query is valid PromQL (checked by promtool as recording rules) that only
// uses recording rules defined in rules/.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';

const dashboardsDir = dirname(fileURLToPath(import.meta.url));
const jsonDir = join(dashboardsDir, 'json');
const rulesDir = join(dashboardsDir, '..', 'rules');
const promtool = process.env.PROMTOOL ?? 'promtool';
const DATASOURCE_UID = 'prometheus';

interface Target {
  expr?: string;
  datasource?: { uid?: string };
}
interface Panel {
  title?: string;
  type: string;
  datasource?: { uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid?: string;
  title?: string;
  panels?: Panel[];
  annotations?: { list?: { expr?: string; datasource?: { uid?: string } }[] };
}

const files = readdirSync(jsonDir)
  .filter((name) => name.endsWith('.json'))
  .sort();

function load(name: string): Dashboard {
  return JSON.parse(readFileSync(join(jsonDir, name), 'utf8')) as Dashboard;
}

function allPanels(panels: Panel[] = []): Panel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels)]);
}

/** Every PromQL query of a dashboard, with where it is for error messages. */
function queries(dashboard: Dashboard): { where: string; expr: string }[] {
  const fromPanels = allPanels(dashboard.panels).flatMap((panel) =>
    (panel.targets ?? []).flatMap((target, i) =>
      target.expr ? [{ where: `panel "${panel.title}" target ${i}`, expr: target.expr }] : [],
    ),
  );
  const fromAnnotations = (dashboard.annotations?.list ?? []).flatMap((annotation, i) =>
    annotation.expr ? [{ where: `annotation ${i}`, expr: annotation.expr }] : [],
  );
  return [...fromPanels, ...fromAnnotations];
}

/** Replaces Grafana's variables with values Prometheus accepts where they appear. */
function withoutGrafanaVariables(expr: string): string {
  return expr.replaceAll(/\$__(rate_interval|interval|range)\b/g, '5m').replaceAll(/\$\{?host\}?/g, '.+');
}

function recordedNames(): Set<string> {
  const names = new Set<string>();
  for (const file of readdirSync(rulesDir).filter((name) => name.endsWith('.yml'))) {
    const doc = parse(readFileSync(join(rulesDir, file), 'utf8')) as {
      groups: { rules: { record?: string }[] }[];
    };
    for (const group of doc.groups) for (const rule of group.rules) if (rule.record) names.add(rule.record);
  }
  return names;
}

describe('dashboards', () => {
  it('has dashboards', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it('has unique uids', () => {
    const uids = files.map((name) => load(name).uid);
    expect(uids.filter((uid, i) => uids.indexOf(uid) !== i)).toEqual([]);
  });

  for (const name of files) {
    describe(name, () => {
      const dashboard = load(name);

      it('has a uid and a Chinese title', () => {
        expect(dashboard.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
        expect(dashboard.title).toMatch(/\p{Script=Han}/u);
      });

      it('queries the provisioned datasource only', () => {
        for (const panel of allPanels(dashboard.panels).filter((p) => p.type !== 'row')) {
          expect(panel.datasource?.uid, `panel "${panel.title}"`).toBe(DATASOURCE_UID);
          for (const target of panel.targets ?? []) {
            expect(target.datasource?.uid ?? DATASOURCE_UID, `panel "${panel.title}"`).toBe(DATASOURCE_UID);
          }
        }
      });

      it('uses only recording rules defined in rules/', () => {
        const recorded = recordedNames();
        for (const { where, expr } of queries(dashboard)) {
          // Recording rule names are the only metric names with a colon.
          for (const used of expr.match(/\b[a-zA-Z_]+:[a-zA-Z0-9_:]+\b/g) ?? []) {
            expect(recorded.has(used), `${where}: ${used} is not recorded in rules/`).toBe(true);
          }
        }
      });
    });
  }

  describe('every query is valid PromQL', () => {
    const work = mkdtempSync(join(tmpdir(), 'creditops-dashboards-'));
    afterAll(() => rmSync(work, { recursive: true, force: true }));

    it('is accepted by promtool check rules', async () => {
      const all = files.flatMap((name) =>
        queries(load(name)).map((query) => ({ ...query, where: `${name}: ${query.where}` })),
      );
      expect(all.length).toBeGreaterThan(0);
      const rules = all.map((query, i) => ({
        record: `dashboard:query_${i}:check`,
        expr: withoutGrafanaVariables(query.expr),
      }));
      const file = join(work, 'dashboard-queries.yml');
      writeFileSync(file, stringify({ groups: [{ name: 'dashboard-queries', rules }] }));

      const { code, output } = await new Promise<{ code: number; output: string }>((resolve, reject) => {
        execFile(promtool, ['check', 'rules', file], { timeout: 60_000 }, (error, stdout, stderr) => {
          if (error && typeof error.code !== 'number') {
            reject(
              new Error(`cannot run ${promtool} (install prometheus or set PROMTOOL)`, { cause: error }),
            );
            return;
          }
          resolve({ code: typeof error?.code === 'number' ? error.code : 0, output: `${stdout}${stderr}` });
        });
      });
      // promtool names the failing rule by its index; map it back to the panel.
      const explained = output.replaceAll(/dashboard:query_(\d+):check|rule (\d+)/g, (match, a, b) => {
        const query = all[Number(a ?? b) - (a ? 0 : 1)];
        return query ? `${match} (${query.where})` : match;
      });
      expect(code, explained).toBe(0);
    });
  });
});

describe('provisioning', () => {
  const datasources = parse(
    readFileSync(join(dashboardsDir, 'provisioning/datasources/prometheus.yml'), 'utf8'),
  );
  const providers = parse(readFileSync(join(dashboardsDir, 'provisioning/dashboards/creditops.yml'), 'utf8'));

  it('provisions the Prometheus datasource the dashboards refer to', () => {
    expect(datasources.apiVersion).toBe(1);
    expect(datasources.datasources).toEqual([
      expect.objectContaining({ uid: DATASOURCE_UID, type: 'prometheus', url: 'http://127.0.0.1:9090' }),
    ]);
  });

  it('loads dashboards/json through a file provider', () => {
    expect(providers.apiVersion).toBe(1);
    const [provider] = providers.providers;
    expect(provider.type).toBe('file');
    expect(provider.options.path).toMatch(/\/dashboards\/json$/);
  });
});
