/**
 * The check evaluator: turns runs of failing check results into tickets, periodically, over the
 * rows stored since its last pass (a per-agent cursor on the check-result seq, advanced in the
 * same transaction as the tickets it causes — durable and idempotent: a crash re-evaluates the
 * same rows, never skips them, and a result is never counted twice).
 *
 * Per (agent, check, target): `openAfter` consecutive results in `statuses` open a ticket;
 * `resolveAfter` consecutive OK results resolve it with a note (hysteresis both ways). A check
 * failing again within `reopenWithinMinutes` of its ticket's resolution reopens that ticket
 * rather than opening another, so a flapping check has one ticket with its history. While a
 * maintenance window covers the host and check, no ticket opens (recorded as suppressed); once
 * the window is over, a check still failing opens its ticket on its next result.
 */
import type { Logger } from 'pino';
import type { MaintenanceCalendar } from '../maintenance/windows.js';
import type { CheckResultRow } from '../store/schema.js';
import type { CheckStatesTable } from '../store/ticket-tables.js';
import type { TicketPolicy } from './policy.js';
import type { TicketService, Trx } from './service.js';

const ACTOR = 'check-evaluator';
/** Rows per agent per pass; the rest waits for the next pass. */
const BATCH = 2000;

export function checkFingerprint(agent: string, check: string, target: string): string {
  return `check:${agent}/${check}/${target}`;
}

export class CheckEvaluator {
  constructor(
    private readonly tickets: TicketService,
    private readonly maintenance: MaintenanceCalendar,
    private readonly policy: TicketPolicy['checks'],
    private readonly log: Logger,
  ) {}

  /** One pass over new results of every agent; returns how many results it evaluated. */
  async evaluate(): Promise<number> {
    const db = this.tickets.db;
    const agents = await db.selectFrom('agents').select(['id', 'name']).execute();
    let evaluated = 0;
    for (const agent of agents) {
      const cursor = await db
        .selectFrom('check_evaluator_cursors')
        .select('last_seq')
        .where('agent_id', '=', agent.id)
        .executeTakeFirst();
      const after = cursor ? Number(cursor.last_seq) : -1;
      const rows = await db
        .selectFrom('check_results')
        .selectAll()
        .where('agent_id', '=', agent.id)
        .where('seq', '>', after)
        .orderBy('seq')
        .limit(BATCH)
        .execute();
      if (rows.length === 0) continue;
      await this.tickets.write(async (trx) => {
        for (const row of rows) await this.apply(trx, agent.name, row);
        const last = Number(rows[rows.length - 1]!.seq);
        await trx
          .insertInto('check_evaluator_cursors')
          .values({ agent_id: agent.id, last_seq: last })
          .onConflict((oc) => oc.column('agent_id').doUpdateSet({ last_seq: last }))
          .execute();
      });
      evaluated += rows.length;
    }
    return evaluated;
  }

  private async apply(trx: Trx, agentName: string, row: CheckResultRow): Promise<void> {
    const target = row.target ?? '';
    const key = { agent_id: row.agent_id, check: row.check, target };
    const existing = await trx
      .selectFrom('check_states')
      .selectAll()
      .where('agent_id', '=', key.agent_id)
      .where('check', '=', key.check)
      .where('target', '=', key.target)
      .executeTakeFirst();
    const state: CheckStatesTable = existing ?? {
      ...key,
      status: 'OK',
      bad_streak: 0,
      ok_streak: 0,
      ticket_id: null,
      last_seq: -1,
      updated_at: '',
    };
    const failing = (this.policy.statuses as string[]).includes(row.status);
    state.status = row.status;
    state.last_seq = Number(row.seq);
    state.updated_at = this.tickets.nowIso();
    if (failing) {
      state.bad_streak += 1;
      state.ok_streak = 0;
    } else if (row.status === 'OK') {
      state.ok_streak += 1;
      state.bad_streak = 0;
    } else {
      // UNKNOWN (or WARN when only CRIT counts): neither failure nor recovery.
      state.bad_streak = 0;
      state.ok_streak = 0;
    }

    if (state.ticket_id !== null) {
      const ticket = await trx
        .selectFrom('tickets')
        .selectAll()
        .where('id', '=', state.ticket_id)
        .executeTakeFirst();
      const active = ticket && (ticket.status === 'open' || ticket.status === 'acknowledged');
      if (!active) state.ticket_id = null;
      else if (row.status === 'OK' && state.ok_streak >= this.policy.resolveAfter) {
        await this.tickets.transitionIn(
          trx,
          ticket,
          'resolve',
          ACTOR,
          `检查已恢复（连续 ${state.ok_streak} 次正常）：${row.summary}`,
        );
        state.ticket_id = null;
      }
    }

    if (failing && state.ticket_id === null && state.bad_streak >= this.policy.openAfter) {
      const held = await this.maintenance.covering(agentName, row.check, Date.parse(row.observed_at), trx);
      if (held) {
        if (state.bad_streak === this.policy.openAfter) {
          await this.maintenance.recordSuppression(
            held.window.id,
            'check',
            agentName,
            row.check,
            `${row.check}${target ? ` ${target}` : ''} ${row.status}: ${row.summary}`,
            trx,
          );
        }
      } else {
        const severity = this.policy.severity[row.status as 'CRIT' | 'WARN'];
        const outcome = await this.tickets.raiseIn(
          trx,
          {
            kind: 'fault',
            severity,
            title: `${agentName} 检查 ${row.check}${target ? `（${target}）` : ''} ${row.status}：${row.summary}`,
            description: `连续 ${state.bad_streak} 次检查结果为 ${row.status}。最近一次：${row.summary}（${row.observed_at}）`,
            host: agentName,
            service: row.check,
            source: 'check',
            fingerprint: checkFingerprint(agentName, row.check, target),
            labels: { check: row.check, ...(target ? { target } : {}), status: row.status },
            actor: ACTOR,
          },
          this.policy.reopenWithinMinutes * 60_000,
          `检查 ${row.check} 连续 ${state.bad_streak} 次 ${row.status}：${row.summary}`,
        );
        state.ticket_id = outcome.ticket.id;
        this.log.info(
          { ticket: outcome.ticket.number, action: outcome.action, check: row.check, host: agentName },
          'check ticket',
        );
      }
    }

    await trx
      .insertInto('check_states')
      .values(state)
      .onConflict((oc) =>
        oc.columns(['agent_id', 'check', 'target']).doUpdateSet({
          status: state.status,
          bad_streak: state.bad_streak,
          ok_streak: state.ok_streak,
          ticket_id: state.ticket_id,
          last_seq: state.last_seq,
          updated_at: state.updated_at,
        }),
      )
      .execute();
  }
}
