// Validates the Prometheus rules with the real promtool and checks the conventions the collector
// relies on when it turns alerts into tickets (severity, Chinese summary, description, runbook).
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const rulesDir = dirname(fileURLToPath(import.meta.url));
const testsDir = join(rulesDir, 'tests');
const promtool = process.env.PROMTOOL ?? 'promtool';

const ruleFiles = readdirSync(rulesDir)
  .filter((name) => name.endsWith('.yml'))
  .sort()
  .map((name) => join(rulesDir, name));
const testFiles = readdirSync(testsDir)
  .filter((name) => name.endsWith('.yml'))
  .sort()
  .map((name) => join(testsDir, name));

/** The severities of the O&M contract; the collector maps them to response and restore deadlines. */
const severities = ['P1', 'P2', 'P3'];
const cjk = /\p{Script=Han}/u;

interface PromtoolRun {
  code: number;
  output: string;
}

function runPromtool(args: string[]): Promise<PromtoolRun> {
  return new Promise((resolve, reject) => {
    execFile(promtool, args, { cwd: rulesDir, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') {
        // Not an exit status: promtool is missing or was killed.
        reject(
          new Error(`cannot run ${promtool} ${args.join(' ')} (install prometheus or set PROMTOOL)`, {
            cause: error,
          }),
        );
        return;
      }
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, output: `${stdout}${stderr}` });
    });
  });
}

interface AlertRule {
  alert: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

interface AlertRuleTest {
  alertname: string;
  exp_alerts?: unknown[] | null;
}

function alertRules(): { file: string; rule: AlertRule }[] {
  return ruleFiles.flatMap((file) => {
    const doc = parse(readFileSync(file, 'utf8')) as { groups: { rules: Record<string, unknown>[] }[] };
    return doc.groups.flatMap((group) =>
      group.rules
        .filter((rule) => 'alert' in rule)
        .map((rule) => ({ file, rule: rule as unknown as AlertRule })),
    );
  });
}

function alertRuleTests(): AlertRuleTest[] {
  return testFiles.flatMap((file) => {
    const doc = parse(readFileSync(file, 'utf8')) as { tests: { alert_rule_test?: AlertRuleTest[] }[] };
    return doc.tests.flatMap((test) => test.alert_rule_test ?? []);
  });
}

describe('promtool', () => {
  it('finds rule and test files', () => {
    expect(ruleFiles.length).toBeGreaterThan(0);
    expect(testFiles.length).toBeGreaterThan(0);
  });

  it('accepts every rule file (promtool check rules)', async () => {
    const { code, output } = await runPromtool(['check', 'rules', ...ruleFiles]);
    expect(code, output).toBe(0);
  });

  it('passes every unit test (promtool test rules)', async () => {
    const { code, output } = await runPromtool(['test', 'rules', ...testFiles]);
    expect(code, output).toBe(0);
  });
});

describe('alert conventions', () => {
  const alerts = alertRules();
  const tests = alertRuleTests();

  it('has alerts', () => {
    expect(alerts.length).toBeGreaterThan(0);
  });

  it('has unique alert names', () => {
    const names = alerts.map(({ rule }) => rule.alert);
    expect(names.filter((name, i) => names.indexOf(name) !== i)).toEqual([]);
  });

  for (const { file, rule } of alerts) {
    describe(rule.alert, () => {
      it('has a contract severity and a ticket kind', () => {
        expect(severities, `${file}: ${rule.alert} labels.severity`).toContain(rule.labels?.severity);
        expect(rule.labels?.kind, `${file}: ${rule.alert} labels.kind`).toBe('fault');
      });

      it('has a Chinese summary naming the host, a Chinese description and a runbook', () => {
        const { summary = '', description = '', runbook = '' } = rule.annotations ?? {};
        expect(summary, `${file}: ${rule.alert} annotations.summary`).toMatch(cjk);
        expect(summary, `${file}: ${rule.alert} annotations.summary`).toContain('{{ $labels.host }}');
        expect(summary, `${file}: ${rule.alert} summary stays one line (ticket title, SMS)`).not.toContain(
          '\n',
        );
        expect(description, `${file}: ${rule.alert} annotations.description`).toMatch(cjk);
        expect(runbook.trim(), `${file}: ${rule.alert} annotations.runbook`).not.toBe('');
      });

      it('is unit-tested both firing and quiet', () => {
        const own = tests.filter((test) => test.alertname === rule.alert);
        expect(
          own.some((test) => (test.exp_alerts ?? []).length > 0),
          `no alert_rule_test in rules/tests expects ${rule.alert} to fire`,
        ).toBe(true);
        expect(
          own.some((test) => (test.exp_alerts ?? []).length === 0),
          `no alert_rule_test in rules/tests expects ${rule.alert} to stay quiet`,
        ).toBe(true);
      });
    });
  }
});
