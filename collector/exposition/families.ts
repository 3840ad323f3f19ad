/**
 * The families the collector itself exposes. This one declaration feeds both the renderer and
 * ingest, which refuses agent families that would collide with them.
 */

import { TICKET_FAMILIES } from '../tickets/metrics.js';

export type OwnFamilyType = 'counter' | 'gauge' | 'histogram';

export interface OwnFamilyDescriptor {
  type: OwnFamilyType;
  help: string;
  /**
   * Exclusive families are the collector's alone (an agent sending one is refused). The others
   * (process metrics, build info) are also what every agent reports about itself: an agent's
   * samples are merged into the family under its host label, provided the type agrees.
   */
  exclusive: boolean;
}

export const OWN_FAMILIES = {
  creditops_agent_up: {
    type: 'gauge',
    help: 'Whether the agent pushed within its staleness window (1) or not (0), for every enrolled agent.',
    exclusive: true,
  },
  creditops_agent_last_push_timestamp_seconds: {
    type: 'gauge',
    help: 'When the agent last pushed successfully, in seconds since the epoch.',
    exclusive: true,
  },
  creditops_collector_pushes_total: {
    type: 'counter',
    help: 'Pushes received by the collector, by result.',
    exclusive: true,
  },
  creditops_collector_push_duration_seconds: {
    type: 'histogram',
    help: 'Time taken to handle a push, from request to response.',
    exclusive: true,
  },
  creditops_check_results_received_total: {
    type: 'counter',
    help: 'Check results received in accepted pushes, replays included.',
    exclusive: true,
  },
  creditops_check_results_stored_total: {
    type: 'counter',
    help: 'Check results stored for the first time (replays of a stored sequence number excluded).',
    exclusive: true,
  },
  creditops_build_info: {
    type: 'gauge',
    help: 'Build information of the creditops component; the value is always 1.',
    exclusive: false,
  },
  process_cpu_seconds_total: {
    type: 'counter',
    help: 'Total user and system CPU time spent in seconds.',
    exclusive: false,
  },
  process_resident_memory_bytes: { type: 'gauge', help: 'Resident memory size in bytes.', exclusive: false },
  process_virtual_memory_bytes: { type: 'gauge', help: 'Virtual memory size in bytes.', exclusive: false },
  process_start_time_seconds: {
    type: 'gauge',
    help: 'Start time of the process since unix epoch in seconds.',
    exclusive: false,
  },
  process_open_fds: { type: 'gauge', help: 'Number of open file descriptors.', exclusive: false },
  process_max_fds: { type: 'gauge', help: 'Maximum number of open file descriptors.', exclusive: false },
  ...TICKET_FAMILIES,
} as const satisfies Record<string, OwnFamilyDescriptor>;

export type OwnFamilyName = keyof typeof OWN_FAMILIES;

/** Every series name the collector's own families produce (a histogram adds _bucket, _sum, _count). */
export function ownSeriesNames(): Map<string, { family: OwnFamilyName } & OwnFamilyDescriptor> {
  const names = new Map<string, { family: OwnFamilyName } & OwnFamilyDescriptor>();
  for (const [family, d] of Object.entries(OWN_FAMILIES) as [OwnFamilyName, OwnFamilyDescriptor][]) {
    names.set(family, { family, ...d });
    if (d.type === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count'])
        names.set(family + suffix, { family, ...d, exclusive: true });
    }
  }
  return names;
}
