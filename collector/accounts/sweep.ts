/** Evaluates account drift for every host that reported an inventory, storing the results through the collector's source. */
import type { CollectorSource } from '../probes/source.js';
import { listAgents } from '../store/agents.js';
import type { Store } from '../store/store.js';
import { driftResults } from './drift.js';

export async function sweepAccountDrift(
  store: Store,
  source: CollectorSource,
  sourceName: string,
  extraHosts: string[] = [],
): Promise<number> {
  const hosts = [
    ...(await listAgents(store)).map((a) => a.name).filter((n) => n !== sourceName),
    ...extraHosts,
  ];
  let evaluated = 0;
  for (const host of hosts) {
    const { results } = await driftResults(store, host, sourceName);
    // A host that never reported an inventory (an agent with the probe disabled) is not drift.
    if (results.length === 1 && results[0]!.status === 'UNKNOWN') continue;
    await source.record(`accounts\u0000${host}`, results);
    evaluated++;
  }
  return evaluated;
}
