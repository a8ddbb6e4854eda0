import { applyPatch, type SubscriptionRow, toSubscription } from '../rows.ts'
import type { SubscriptionsPart } from '../store-parts.ts'
import type { SubscriptionPatch } from '../types.ts'
import type { SqliteContext } from './sqlite-context.ts'

export function sqliteSubscriptions(c: SqliteContext): SubscriptionsPart {
  const { stmt, tx, subscriptionById, cancelPending } = c
  return {
    async createSubscription(input) {
      return tx(() => {
        const existing = stmt(
          "SELECT * FROM hookline_subscriptions WHERE event = ? AND target_url = ? AND status != 'removed' ORDER BY created_at LIMIT 1",
        ).get(input.event, input.targetUrl) as SubscriptionRow | undefined
        if (existing) return { subscription: toSubscription(existing), created: false }
        stmt(
          `INSERT INTO hookline_subscriptions (id, event, target_url, status, secret, headers, created_at, updated_at, ordering, max_concurrency)
           VALUES (?, ?, ?, 'active', ?, ?, ?, ?, ?, ?)`,
        ).run(
          input.id,
          input.event,
          input.targetUrl,
          input.secret,
          JSON.stringify(input.headers),
          input.now,
          input.now,
          input.ordering ?? 'concurrent',
          input.maxConcurrency ?? null,
        )
        return { subscription: toSubscription(subscriptionById(input.id)!), created: true }
      })
    },
    async getSubscription(id) {
      const row = subscriptionById(id)
      return row ? toSubscription(row) : null
    },
    async listSubscriptions(filter) {
      const rows = stmt(
        `SELECT * FROM hookline_subscriptions
         WHERE (@event IS NULL OR event = @event) AND (@url IS NULL OR target_url = @url) AND (@all = 1 OR status != 'removed')
         ORDER BY created_at, id`,
      ).all({
        event: filter.event ?? null,
        url: filter.targetUrl ?? null,
        all: filter.includeRemoved ? 1 : 0,
      }) as SubscriptionRow[]
      return rows.map(toSubscription)
    },
    async updateSubscription(id, patch: SubscriptionPatch, now) {
      return tx(() => {
        const row = subscriptionById(id)
        if (!row || row.status === 'removed') return null
        const p = applyPatch(row, patch)
        stmt(
          `UPDATE hookline_subscriptions SET status = ?, target_url = ?, headers = ?, disabled_reason = ?, ordering = ?,
             max_concurrency = ?, updated_at = ?
           WHERE id = ?`,
        ).run(
          p.status,
          p.targetUrl,
          p.headers,
          p.disabledReason,
          p.ordering,
          p.maxConcurrency,
          now,
          id,
        )
        if (p.reenabled)
          stmt(
            'UPDATE hookline_subscriptions SET consecutive_failures = 0, failing_since = NULL WHERE id = ?',
          ).run(id)
        if (p.status !== 'active') cancelPending(id, now)
        return toSubscription(subscriptionById(id)!)
      })
    },
    async removeSubscription(id, now, reason) {
      return tx(() => {
        const row = subscriptionById(id)
        if (!row) return false
        if (row.status !== 'removed') {
          stmt(
            "UPDATE hookline_subscriptions SET status = 'removed', disabled_reason = ?, updated_at = ? WHERE id = ?",
          ).run(reason ?? 'unsubscribed', now, id)
          cancelPending(id, now)
        }
        return true
      })
    },
    async rotateSecret(id, secret, graceUntil, now) {
      return tx(() => {
        const row = subscriptionById(id)
        if (!row || row.status === 'removed') return null
        stmt(
          `UPDATE hookline_subscriptions SET previous_secret = secret, previous_secret_expires_at = ?, secret = ?, updated_at = ?
           WHERE id = ?`,
        ).run(graceUntil, secret, now, id)
        return toSubscription(subscriptionById(id)!)
      })
    },
  }
}
