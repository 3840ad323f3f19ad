/** Which routes a ticket matches, and quiet hours: pure functions of the policy and the ticket. */
import { localToInstant, parseHhMm, wallClockAt } from '../maintenance/zoned-time.js';
import type { NotificationPolicy, QuietHours, Route } from './policy.js';

export interface RoutableTicket {
  severity: string;
  kind: string;
  /** Labels, with `host` and `service` among them when the ticket has them. */
  labels: Record<string, string>;
}

function labelMatches(pattern: string, value: string | undefined): boolean {
  if (value === undefined) return false;
  return pattern.endsWith('*') ? value.startsWith(pattern.slice(0, -1)) : value === pattern;
}

export function routeMatches(route: Route, ticket: RoutableTicket): boolean {
  const m = route.match;
  if (m.severity && !m.severity.includes(ticket.severity)) return false;
  if (m.kind && !m.kind.includes(ticket.kind)) return false;
  for (const [k, v] of Object.entries(m.labels ?? {})) if (!labelMatches(v, ticket.labels[k])) return false;
  return true;
}

/** The first matching route, and the following ones while each says `continue`. */
export function routesFor(policy: NotificationPolicy, ticket: RoutableTicket): Route[] {
  const out: Route[] = [];
  for (const route of policy.routes) {
    if (!routeMatches(route, ticket)) continue;
    out.push(route);
    if (!route.continue) break;
  }
  return out;
}

/**
 * When the quiet period containing `instant` ends (ms), or null when `instant` is not quiet or
 * the severity ignores quiet hours (P1 always does).
 */
export function quietUntil(
  quiet: QuietHours | undefined | false,
  severity: string,
  instant: number,
): number | null {
  if (!quiet || severity === 'P1' || quiet.except.includes(severity)) return null;
  const start = parseHhMm(quiet.start);
  const end = parseHhMm(quiet.end);
  if (start === end) return null;
  const { day, minutes } = wallClockAt(instant, quiet.timeZone);
  if (start < end) {
    if (minutes >= start && minutes < end) return localToInstant(day, end, quiet.timeZone);
    return null;
  }
  // Crosses midnight: quiet from start until 24:00, and from 00:00 until end.
  if (minutes >= start) return localToInstant(day + 1, end, quiet.timeZone);
  if (minutes < end) return localToInstant(day, end, quiet.timeZone);
  return null;
}
