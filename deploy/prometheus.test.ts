// Checks deploy/prometheus.yml with promtool, both as shipped and with the commented-out HTTP SD
// blocks enabled, so the large-fleet switch documented in the file stays valid.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const deployDir = dirname(fileURLToPath(import.meta.url));
const configPath = join(deployDir, 'prometheus.yml');
const promtool = process.env.PROMTOOL ?? 'promtool';

function promtoolCheckConfig(file: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    execFile(promtool, ['check', 'config', file], { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') {
        reject(new Error(`cannot run ${promtool} (install prometheus or set PROMTOOL)`, { cause: error }));
        return;
      }
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, output: `${stdout}${stderr}` });
    });
  });
}

/** Uncomments the lines between `# BEGIN http-sd` and `# END http-sd`, keeping their indentation. */
function enableHttpSd(text: string): string {
  let inside = false;
  const lines: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '# BEGIN http-sd') inside = true;
    else if (line.trim() === '# END http-sd') inside = false;
    else lines.push(inside ? line.replace(/^(\s*)# ?/, '$1') : line);
  }
  return lines.join('\n');
}

describe('deploy/prometheus.yml', () => {
  const text = readFileSync(configPath, 'utf8');
  const work = mkdtempSync(join(tmpdir(), 'creditops-prom-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('passes promtool check config, rule files included', async () => {
    const { code, output } = await promtoolCheckConfig(configPath);
    expect(code, output).toBe(0);
    expect(output).toMatch(/SUCCESS: [1-9]\d* rule files found/);
  });

  it('scrapes the collector keeping its host labels and alerts through the local Alertmanager', () => {
    const config = parse(text);
    expect(config.global).toMatchObject({ scrape_interval: '15s', evaluation_interval: '15s' });
    const collector = config.scrape_configs.find(
      (job: { job_name: string }) => job.job_name === 'creditops-collector',
    );
    expect(collector).toMatchObject({
      honor_labels: true,
      static_configs: [{ targets: ['127.0.0.1:9470'] }],
    });
    expect(config.alerting.alertmanagers[0].static_configs[0].targets).toEqual(['127.0.0.1:9093']);
  });

  it('stays valid with the HTTP SD blocks enabled', async () => {
    const enabled = enableHttpSd(text);
    const config = parse(enabled);
    const agents = config.scrape_configs.find(
      (job: { job_name: string }) => job.job_name === 'creditops-agents',
    );
    expect(agents.http_sd_configs[0].url).toBe('http://127.0.0.1:9470/api/v1/sd');
    // The collector job then keeps creditops_agent_up and its own (host-less) series only.
    const collector = config.scrape_configs.find(
      (job: { job_name: string }) => job.job_name === 'creditops-collector',
    );
    const [keep] = collector.metric_relabel_configs;
    const kept = (name: string, host: string) => new RegExp(`^(?:${keep.regex})$`).test(`${name};${host}`);
    expect(kept('creditops_agent_up', 'db-01')).toBe(true);
    expect(kept('process_cpu_seconds_total', '')).toBe(true);
    expect(kept('creditops_agent_last_push_timestamp_seconds', 'db-01')).toBe(true);
    expect(kept('node_load1', 'db-01')).toBe(false);
    expect(kept('creditops_collector_success', 'db-01')).toBe(false);
    // Keep ../rules resolvable from the temporary copy.
    symlinkSync(join(deployDir, '..', 'rules'), join(work, 'rules'));
    const copy = join(work, 'deploy', 'prometheus.yml');
    mkdirSync(dirname(copy));
    writeFileSync(copy, enabled);
    const { code, output } = await promtoolCheckConfig(copy);
    expect(code, output).toBe(0);
  });
});
