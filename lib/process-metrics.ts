/** The standard process_* metrics of a Prometheus client, for the agent's own /metrics. */
import type { MetricRegistry } from './metrics.js';
import { readProcessStats } from './process-stats.js';

export async function writeProcessMetrics(registry: MetricRegistry, procRoot = '/proc'): Promise<void> {
  const stats = await readProcessStats(procRoot);
  registry
    .counter('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.')
    .value(stats.cpuSeconds);
  registry
    .gauge('process_resident_memory_bytes', 'Resident memory size in bytes.')
    .value(stats.residentBytes);
  if (stats.virtualBytes !== null) {
    registry.gauge('process_virtual_memory_bytes', 'Virtual memory size in bytes.').value(stats.virtualBytes);
  }
  registry
    .gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.')
    .value(stats.startTimeSeconds);
  if (stats.openFds !== null)
    registry.gauge('process_open_fds', 'Number of open file descriptors.').value(stats.openFds);
  if (stats.maxFds !== null)
    registry.gauge('process_max_fds', 'Maximum number of open file descriptors.').value(stats.maxFds);
}
