import {
  type AttemptRow,
  type DeliveryRow,
  type MessageRow,
  toAttempt,
  toDelivery,
  toMessage,
} from '../rows.ts'
import { DELIVERY_STATES as D } from '../states.ts'
import type { DeliveriesPart } from '../store-parts.ts'
import type { DeliveryFilter } from '../types.ts'
import type { SqliteContext } from './sqlite-context.ts'

export function sqliteDeliveries(c: SqliteContext): DeliveriesPart {
  const { stmt, tx } = c
  return {
    async recoverDeliveries(subscriptionId, since, now) {
      return stmt(
        `UPDATE hookline_deliveries SET status = 'pending', next_attempt_at = @now, lease_until = NULL, updated_at = @now
         WHERE subscription_id = @sub AND created_at >= @since AND status IN ('failed', 'dead', 'cancelled')
           AND (lease_until IS NULL OR lease_until <= @now)`,
      ).run({ sub: subscriptionId, since, now }).changes
    },
    async prune(before) {
      return tx(() => {
        // A delivery made in the instant its subscription went away is never claimed: end it.
        stmt(
          `UPDATE hookline_deliveries SET status = 'cancelled', next_attempt_at = NULL, lease_until = NULL
           WHERE status IN ('pending', 'failed')
             AND subscription_id IN (SELECT id FROM hookline_subscriptions WHERE status != 'active')`,
        ).run()
        const ids = stmt(
          `SELECT m.id FROM hookline_messages m WHERE m.created_at < ?
           AND NOT EXISTS (SELECT 1 FROM hookline_deliveries d WHERE d.message_id = m.id AND d.status IN ('pending', 'failed'))`,
        )
          .pluck()
          .all(before) as string[]
        const del = stmt('DELETE FROM hookline_messages WHERE id = ?')
        for (const id of ids) del.run(id)
        return ids.length
      })
    },
    async nextDueAt() {
      return (
        // Each subscription's earliest, from the index claims use.
        (stmt(
          `SELECT min((
             SELECT x.next_attempt_at FROM hookline_deliveries x INDEXED BY hookline_deliveries_open_due
             WHERE x.subscription_id = s.id AND x.status IN ('pending', 'failed')
             ORDER BY x.next_attempt_at LIMIT 1))
           FROM hookline_subscriptions s`,
        )
          .pluck()
          .get() as number | null) ?? null
      )
    },
    async getDelivery(id) {
      const row = stmt('SELECT * FROM hookline_deliveries WHERE id = ?').get(id) as
        | DeliveryRow
        | undefined
      if (!row) return null
      const attempts = stmt(
        'SELECT * FROM hookline_attempts WHERE delivery_id = ? ORDER BY id',
      ).all(id) as AttemptRow[]
      return { ...toDelivery(row), attemptLog: attempts.map(toAttempt) }
    },
    async listDeliveries(filter: DeliveryFilter) {
      const rows = stmt(
        `SELECT * FROM hookline_deliveries
         WHERE (@sub IS NULL OR subscription_id = @sub) AND (@status IS NULL OR status = @status)
           AND (@event IS NULL OR event = @event)
         ORDER BY id DESC LIMIT @limit`,
      ).all({
        sub: filter.subscriptionId ?? null,
        status: filter.status ?? null,
        event: filter.event ?? null,
        limit: filter.limit,
      }) as DeliveryRow[]
      return rows.map(toDelivery)
    },
    async retryDelivery(id, now) {
      return tx(() => {
        // A leased delivery is being attempted right now: it is not made due again.
        const { changes } = stmt(
          `UPDATE hookline_deliveries SET status = ?, next_attempt_at = ?, lease_until = NULL, updated_at = ?
           WHERE id = ? AND (lease_until IS NULL OR lease_until <= ?)`,
        ).run(D.pending, now, now, id, now)
        const row = stmt('SELECT * FROM hookline_deliveries WHERE id = ?').get(id) as
          | DeliveryRow
          | undefined
        return row ? { delivery: toDelivery(row), retried: changes > 0 } : null
      })
    },
    async getMessage(id) {
      const row = stmt('SELECT * FROM hookline_messages WHERE id = ?').get(id) as
        | MessageRow
        | undefined
      return row ? toMessage(row) : null
    },
    async countMessages(event) {
      return stmt('SELECT count(*) FROM hookline_messages WHERE (@event IS NULL OR event = @event)')
        .pluck()
        .get({ event: event ?? null }) as number
    },
  }
}
