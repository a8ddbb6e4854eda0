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
import { lockSubscriptions } from './postgres-claims.ts'
import type { PostgresContext } from './postgres-context.ts'
import { withTransaction } from './postgres-sql.ts'

export function postgresDeliveries(c: PostgresContext): DeliveriesPart {
  const { pool, t } = c
  return {
    async nextDueAt() {
      // Each subscription's earliest, from the index claims use.
      const { rows } = await pool.query<{ due: number | null }>(
        `SELECT min(d.next_attempt_at) AS due FROM ${t.subscriptions} s
         CROSS JOIN LATERAL (
           SELECT d.next_attempt_at FROM ${t.deliveries} d
           WHERE d.subscription_id = s.id AND d.status IN ('pending', 'failed')
           ORDER BY d.next_attempt_at LIMIT 1
         ) d`,
      )
      return rows[0]?.due ?? null
    },
    async getDelivery(id) {
      const { rows } = await pool.query<DeliveryRow>(
        `SELECT * FROM ${t.deliveries} WHERE id = $1`,
        [id],
      )
      if (!rows[0]) return null
      const attempts = await pool.query<AttemptRow>(
        `SELECT * FROM ${t.attempts} WHERE delivery_id = $1 ORDER BY id`,
        [id],
      )
      return { ...toDelivery(rows[0]), attemptLog: attempts.rows.map(toAttempt) }
    },
    async listDeliveries(filter) {
      const { rows } = await pool.query<DeliveryRow>(
        `SELECT * FROM ${t.deliveries}
         WHERE ($1::text IS NULL OR subscription_id = $1) AND ($2::text IS NULL OR status = $2)
           AND ($3::text IS NULL OR event = $3)
         ORDER BY id DESC LIMIT $4`,
        [filter.subscriptionId ?? null, filter.status ?? null, filter.event ?? null, filter.limit],
      )
      return rows.map(toDelivery)
    },
    async retryDelivery(id, now) {
      return withTransaction(pool, async (client) => {
        // A leased delivery is being attempted right now: it is not made due again.
        const { rows } = await client.query<DeliveryRow>(
          `UPDATE ${t.deliveries} SET status = $2, next_attempt_at = $3, lease_until = NULL, updated_at = $3
           WHERE id = $1 AND (lease_until IS NULL OR lease_until <= $3) RETURNING *`,
          [id, D.pending, now],
        )
        if (rows[0]) {
          await client.query('SELECT pg_notify($1, $2)', [c.channel, c.instance])
          return { delivery: toDelivery(rows[0]), retried: true }
        }
        const current = await client.query<DeliveryRow>(
          `SELECT * FROM ${t.deliveries} WHERE id = $1`,
          [id],
        )
        return current.rows[0] ? { delivery: toDelivery(current.rows[0]), retried: false } : null
      })
    },
    async recoverDeliveries(subscriptionId, since, now) {
      return withTransaction(pool, async (client) => {
        await lockSubscriptions(c, client, [subscriptionId])
        const { rowCount } = await client.query(
          `UPDATE ${t.deliveries} SET status = 'pending', next_attempt_at = $3, lease_until = NULL, updated_at = $3
           WHERE subscription_id = $1 AND created_at >= $2 AND status IN ('failed', 'dead', 'cancelled')
             AND (lease_until IS NULL OR lease_until <= $3)`,
          [subscriptionId, since, now],
        )
        if (rowCount) await client.query('SELECT pg_notify($1, $2)', [c.channel, c.instance])
        return rowCount ?? 0
      })
    },
    async prune(before) {
      // A delivery made in the instant its subscription went away is never claimed: end it.
      await pool.query(
        `UPDATE ${t.deliveries} SET status = 'cancelled', next_attempt_at = NULL, lease_until = NULL
         WHERE status IN ('pending', 'failed')
           AND subscription_id IN (SELECT id FROM ${t.subscriptions} WHERE status != 'active')`,
      )
      // Deliveries and attempts go with their message (the cascade triggers, migration 011).
      const { rowCount } = await pool.query(
        `DELETE FROM ${t.messages} m WHERE m.created_at < $1
         AND NOT EXISTS (SELECT 1 FROM ${t.deliveries} d WHERE d.message_id = m.id AND d.status IN ('pending', 'failed'))`,
        [before],
      )
      return rowCount ?? 0
    },
    async getMessage(id) {
      const { rows } = await pool.query<MessageRow>(`SELECT * FROM ${t.messages} WHERE id = $1`, [
        id,
      ])
      return rows[0] ? toMessage(rows[0]) : null
    },
    async countMessages(event) {
      const { rows } = await pool.query<{ n: number }>(
        `SELECT count(*) AS n FROM ${t.messages} WHERE ($1::text IS NULL OR event = $1)`,
        [event ?? null],
      )
      return rows[0]?.n ?? 0
    },
  }
}
