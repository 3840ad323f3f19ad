import { spawn } from 'node:child_process';

/**
 * node_exporter's memory and netstat names mirror the kernel's field names (MemTotal, TcpExt_…),
 * which promtool's linter flags as camelCase; node_exporter's own /metrics gets the same
 * findings. Keeping those names is the point of compatibility, so that one finding is accepted on
 * node_* names and nothing else is.
 */
const INHERITED_LINT = /^node_\S+ metric names should be written in 'snake_case' not 'camelCase'$/;

export interface PromtoolResult {
  code: number;
  output: string;
  /** Findings other than the inherited node_exporter camelCase names. */
  problems: string[];
}

/** Runs `promtool check metrics` on an exposition (exit 1: unparsable; exit 3: lint findings). */
export function promtoolCheckMetrics(exposition: string): Promise<PromtoolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const problems = output
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !INHERITED_LINT.test(l));
      const exit = code ?? -1;
      if (exit !== 0 && exit !== 3 && problems.length === 0) problems.push(`promtool exited with ${exit}`);
      resolve({ code: exit, output, problems });
    });
    child.stdin.end(exposition);
  });
}
