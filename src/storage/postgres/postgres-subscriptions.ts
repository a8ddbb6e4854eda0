import { applyPatch, type SubscriptionRow, toSubscription } from '../rows.ts'
import type { SubscriptionsPart } from '../store-parts.ts'
import type { PostgresContext } from './postgres-context.ts'
import { type Queryable, withTransaction } from './postgres-sql.ts'

/** Cancels the deliveries of these subscriptions that are still to be made. */
export async function cancelPending(
  c: PostgresContext,
  client: Queryable,
  subscriptionIds: readonly string[],
  now: number,
): Promise<void> {
  await client.query(
    `UPDATE ${c.t.deliveries} SET status = 'cancelled', next_attempt_at = NULL, lease_until = NULL, updated_at = $2
     WHERE subscription_id = ANY ($1::text[]) AND status IN ('pending', 'failed')`,
    [subscriptionIds, now],
  )
}

export function postgresSubscriptions(c: PostgresContext): SubscriptionsPart {
  const { pool, t } = c
  const byId = async (db: Queryable, id: string, lock = false) =>
    (
      await db.query<SubscriptionRow>(
        `SELECT * FROM ${t.subscriptions} WHERE id = $1${lock ? ' FOR NO KEY UPDATE' : ''}`,
        [id],
      )
    ).rows[0]

  return {
    async createSubscription(input) {
      return withTransaction(pool, async (client) => {
        // Two processes subscribing the same URL at once must not both create one.
        await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
          `hookline:subscribe:${c.schema}:${input.event}:${input.targetUrl}`,
        ])
        const { rows } = await client.query<SubscriptionRow>(
          `SELECT * FROM ${t.subscriptions} WHERE event = $1 AND target_url = $2 AND status != 'removed'
           ORDER BY created_at LIMIT 1`,
          [input.event, input.targetUrl],
        )
        if (rows[0]) return { subscription: toSubscription(rows[0]), created: false }
        const inserted = await client.query<SubscriptionRow>(
          `INSERT INTO ${t.subscriptions} (id, event, target_url, status, secret, headers, created_at, updated_at, ordering, max_concurrency)
           VALUES ($1, $2, $3, 'active', $4, $5, $6, $6, $7, $8) RETURNING *`,
          [
            input.id,
            input.event,
            input.targetUrl,
            input.secret,
            JSON.stringify(input.headers),
            input.now,
            input.ordering ?? 'concurrent',
            input.maxConcurrency ?? null,
          ],
        )
        return { subscription: toSubscription(inserted.rows[0]!), created: true }
      })
    },
    async getSubscription(id) {
      const row = await byId(pool, id)
      return row ? toSubscription(row) : null
    },
    async listSubscriptions(filter) {
      const { rows } = await pool.query<SubscriptionRow>(
        `SELECT * FROM ${t.subscriptions}
         WHERE ($1::text IS NULL OR event = $1) AND ($2::text IS NULL OR target_url = $2)
           AND ($3 OR status != 'removed')
         ORDER BY created_at, id`,
        [filter.event ?? null, filter.targetUrl ?? null, filter.includeRemoved === true],
      )
      return rows.map(toSubscription)
    },
    async updateSubscription(id, patch, now) {
      return withTransaction(pool, async (client) => {
        const row = await byId(client, id, true)
        if (!row || row.status === 'removed') return null
        const p = applyPatch(row, patch)
        const { rows } = await client.query<SubscriptionRow>(
          `UPDATE ${t.subscriptions} SET status = $2, target_url = $3, headers = $4, disabled_reason = $5,
             ordering = $7, max_concurrency = $9, updated_at = $6,
             -- Re-enabled: a fresh start for its health.
             consecutive_failures = CASE WHEN $8 THEN 0 ELSE consecutive_failures END,
             failing_since = CASE WHEN $8 THEN NULL ELSE failing_since END
           WHERE id = $1 RETURNING *`,
          [
            id,
            p.status,
            p.targetUrl,
            p.headers,
            p.disabledReason,
            now,
            p.ordering,
            p.reenabled,
            p.maxConcurrency,
          ],
        )
        if (p.status !== 'active') await cancelPending(c, client, [id], now)
        return toSubscription(rows[0]!)
      })
    },
    async removeSubscription(id, now, reason) {
      return withTransaction(pool, async (client) => {
        const row = await byId(client, id, true)
        if (!row) return false
        if (row.status !== 'removed') {
          await client.query(
            `UPDATE ${t.subscriptions} SET status = 'removed', disabled_reason = $2, updated_at = $3 WHERE id = $1`,
            [id, reason ?? 'unsubscribed', now],
          )
          await cancelPending(c, client, [id], now)
        }
        return true
      })
    },
    async rotateSecret(id, secret, graceUntil, now) {
      const { rows } = await pool.query<SubscriptionRow>(
        `UPDATE ${t.subscriptions}
         SET previous_secret = secret, previous_secret_expires_at = $2, secret = $3, updated_at = $4
         WHERE id = $1 AND status != 'removed' RETURNING *`,
        [id, graceUntil, secret, now],
      )
      return rows[0] ? toSubscription(rows[0]) : null
    },
  }
}
