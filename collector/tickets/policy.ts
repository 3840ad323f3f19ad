/**
 * The ticket policy file (YAML): deadlines per kind and severity, the working-day calendar, and
 * how the check evaluator turns failing checks into tickets. Every key has a default, so the file
 * is optional; the defaults are the contract's (DOMAIN.md §1).
 *
 * ```yaml
 * calendar: { timeZone: Asia/Shanghai }
 * deadlines:
 *   fault:                      # a kind listed here replaces its default clocks
 *     - { clock: respond, metBy: acknowledged, bySeverity: { P1: 15m, P2: 30m, P3: 2h } }
 *     - { clock: restore, metBy: resolved, bySeverity: { P1: 4h, P2: 8h, P3: 3wd } }
 * checks: { openAfter: 3, statuses: [CRIT], resolveAfter: 2, reopenWithinMinutes: 60 }
 * ```
 *
 * Durations: `15m` minutes, `4h` hours (wall clock, 7×24), `1d` calendar days (24 h), `3wd`
 * Chinese working days (lib/calendar: 24:00 local of the n-th working day after the day it starts).
 */
import { type Static, Type } from '@sinclair/typebox';
import { CalendarSettings } from '../../lib/calendar/index.js';
import { loadConfigFile, parseConfig } from '../../lib/config-file.js';

export const TICKET_KINDS = [
  'fault',
  'objection',
  'change',
  'force_majeure',
  'rectification',
  'account',
  'vulnerability',
] as const;
export type TicketKind = (typeof TICKET_KINDS)[number];

/** Number prefixes: `INC-2026-0001`. */
export const KIND_PREFIX: Record<TicketKind, string> = {
  fault: 'INC',
  objection: 'OBJ',
  change: 'CHG',
  force_majeure: 'FM',
  rectification: 'RECT',
  account: 'ACC',
  vulnerability: 'VUL',
};

/** Chinese names for people. */
export const KIND_TITLE: Record<TicketKind, string> = {
  fault: '故障',
  objection: '异议',
  change: '功能变更',
  force_majeure: '不可抗力',
  rectification: '整改',
  account: '账号',
  vulnerability: '漏洞',
};

export const SEVERITIES = ['P1', 'P2', 'P3'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const STATUSES = ['open', 'acknowledged', 'resolved', 'closed'] as const;
export type TicketStatus = (typeof STATUSES)[number];
export const STATUS_TITLE: Record<TicketStatus, string> = {
  open: '待响应',
  acknowledged: '处理中',
  resolved: '已解决',
  closed: '已关闭',
};

const DURATION_PATTERN = '^[1-9][0-9]{0,4}(m|h|d|wd)$';
export const Duration = Type.String({
  pattern: DURATION_PATTERN,
  description: '15m (minutes), 4h (hours), 1d (calendar days), 3wd (working days)',
});

/** Events that start a clock. */
export const CLOCK_STARTS = ['opened', 'confirmed', 'ended'] as const;
/** Events that stop (meet) a clock. */
export const CLOCK_ENDS = ['acknowledged', 'resolved', 'confirmed'] as const;
export type ClockStart = (typeof CLOCK_STARTS)[number];
export type ClockEnd = (typeof CLOCK_ENDS)[number];

export const ClockPolicy = Type.Object(
  {
    /** Name of the clock, e.g. `respond`, `restore`, `research`, `delivery`. */
    clock: Type.String({ pattern: '^[a-z][a-z_]{0,30}$' }),
    /** @defaultValue "opened" */
    startsOn: Type.Unsafe<ClockStart>({ type: 'string', enum: [...CLOCK_STARTS], default: 'opened' }),
    /** @defaultValue "resolved" */
    metBy: Type.Unsafe<ClockEnd>({ type: 'string', enum: [...CLOCK_ENDS], default: 'resolved' }),
    /** The same duration for every severity. */
    after: Type.Optional(Duration),
    /** Per severity; wins over `after`. A severity with neither has no such clock. */
    bySeverity: Type.Optional(
      Type.Object(
        { P1: Type.Optional(Duration), P2: Type.Optional(Duration), P3: Type.Optional(Duration) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type ClockPolicy = Static<typeof ClockPolicy>;

const kindDeadlines = Object.fromEntries(
  TICKET_KINDS.map((k) => [k, Type.Optional(Type.Array(ClockPolicy, { maxItems: 10 }))]),
);

export const CheckEvaluatorPolicy = Type.Object(
  {
    /**
     * Consecutive results in one of `statuses` before a ticket opens.
     * @defaultValue 3
     */
    openAfter: Type.Integer({ minimum: 1, maximum: 1000, default: 3 }),
    /**
     * Statuses that count as failing. Add WARN to ticket warnings too.
     * @defaultValue ["CRIT"]
     */
    statuses: Type.Array(Type.Unsafe<'CRIT' | 'WARN'>({ type: 'string', enum: ['CRIT', 'WARN'] }), {
      default: ['CRIT'],
      minItems: 1,
    }),
    /** @defaultValue { CRIT: "P2", WARN: "P3" } */
    severity: Type.Object(
      {
        CRIT: Type.Unsafe<Severity>({ type: 'string', enum: [...SEVERITIES], default: 'P2' }),
        WARN: Type.Unsafe<Severity>({ type: 'string', enum: [...SEVERITIES], default: 'P3' }),
      },
      { additionalProperties: false, default: {} },
    ),
    /**
     * Consecutive OK results before the ticket is resolved (hysteresis).
     * @defaultValue 2
     */
    resolveAfter: Type.Integer({ minimum: 1, maximum: 1000, default: 2 }),
    /**
     * A check failing again within this many minutes of its ticket being resolved reopens that
     * ticket instead of opening a new one (no storm from a flapping check).
     * @defaultValue 60
     */
    reopenWithinMinutes: Type.Integer({ minimum: 0, maximum: 100_000, default: 60 }),
  },
  { additionalProperties: false, default: {} },
);

export const TicketPolicy = Type.Object(
  {
    calendar: CalendarSettings,
    /** Clocks per kind; a kind given here replaces its default clocks. */
    deadlines: Type.Object(kindDeadlines, { additionalProperties: false, default: {} }),
    checks: CheckEvaluatorPolicy,
    /**
     * An alert firing again within this many minutes of its ticket being resolved reopens it.
     * @defaultValue 60
     */
    reopenAlertsWithinMinutes: Type.Integer({ minimum: 0, maximum: 100_000, default: 60 }),
  },
  { additionalProperties: false, default: {} },
);
export type TicketPolicy = Static<typeof TicketPolicy>;

/**
 * The contract's clocks (DOMAIN.md §1) and, where the contract is silent, documented choices:
 * rectification 20 working days (a typical 等保 rectification period), vulnerability by severity
 * 5/10/20 working days, account changes 2 working days after approval.
 */
export const DEFAULT_DEADLINES: Record<TicketKind, ClockPolicy[]> = {
  fault: [
    {
      clock: 'respond',
      startsOn: 'opened',
      metBy: 'acknowledged',
      bySeverity: { P1: '15m', P2: '30m', P3: '2h' },
    },
    {
      clock: 'restore',
      startsOn: 'opened',
      metBy: 'resolved',
      bySeverity: { P1: '4h', P2: '8h', P3: '3wd' },
    },
  ],
  objection: [{ clock: 'answer', startsOn: 'opened', metBy: 'resolved', after: '2wd' }],
  change: [
    { clock: 'research', startsOn: 'opened', metBy: 'confirmed', after: '5wd' },
    { clock: 'delivery', startsOn: 'confirmed', metBy: 'resolved', after: '20wd' },
  ],
  force_majeure: [{ clock: 'notify', startsOn: 'ended', metBy: 'resolved', after: '1d' }],
  rectification: [{ clock: 'rectify', startsOn: 'opened', metBy: 'resolved', after: '20wd' }],
  account: [{ clock: 'resolve', startsOn: 'opened', metBy: 'resolved', after: '2wd' }],
  vulnerability: [
    { clock: 'respond', startsOn: 'opened', metBy: 'acknowledged', after: '1wd' },
    {
      clock: 'fix',
      startsOn: 'opened',
      metBy: 'resolved',
      bySeverity: { P1: '5wd', P2: '10wd', P3: '20wd' },
    },
  ],
};

/** Chinese names of the default clocks. */
export const CLOCK_TITLE: Record<string, string> = {
  respond: '响应',
  restore: '恢复',
  answer: '答复',
  research: '需求调研',
  delivery: '交付',
  notify: '告知',
  rectify: '整改',
  resolve: '办结',
  fix: '修复',
};

export function clocksFor(policy: TicketPolicy, kind: TicketKind): ClockPolicy[] {
  return policy.deadlines[kind] ?? DEFAULT_DEADLINES[kind];
}

export function loadTicketPolicy(file?: string): TicketPolicy {
  if (file === undefined) return parseConfig(TicketPolicy, '{}', '(defaults)');
  return loadConfigFile(TicketPolicy, file);
}

export function parseTicketPolicy(text: string, file = '(inline)'): TicketPolicy {
  return parseConfig(TicketPolicy, text, file);
}
