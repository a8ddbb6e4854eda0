import { failureRuns } from '../failure-runs.ts'
import { type JobRow, toJob } from '../rows.ts'
import type { ClaimsPart } from '../store-parts.ts'
import type { AttemptResult } from '../types.ts'
import type { SqliteContext } from './sqlite-context.ts'

const JOB_COLUMNS = `d.id, d.message_id, d.subscription_id, d.event, d.attempts, m.body, s.target_url, s.secret,
  s.previous_secret, s.previous_secret_expires_at, s.headers, s.max_concurrency`

/** The oldest unfinished delivery of subscription `s` (strict ordering). */
const STRICT_HEAD = `SELECT x.rowid FROM hookline_deliveries x INDEXED BY hookline_deliveries_open
  WHERE x.subscription_id = s.id AND x.status IN ('pending', 'failed') ORDER BY x.rowid LIMIT 1`

export function sqliteClaims(c: SqliteContext): ClaimsPart {
  const { stmt, tx, cancelPending } = c
  return {
    async claimDeliveries(now, limit, leaseMs, exclude = [], perSubscription = limit) {
      return tx(() => {
        // Each active subscription offers its oldest due deliveries, at most its own
        // `max_concurrency` or else `perSubscription`; the oldest `limit` of those are
        // claimed. CROSS JOIN keeps subscriptions as the outer loop: one index probe each,
        // never a table scan. (SQLite's LIMIT cannot name the outer row, so each probe
        // takes the largest limit and the rows beyond a subscription's own are dropped.)
        const rows = stmt(
          `SELECT ${JOB_COLUMNS}
           FROM hookline_subscriptions s
           CROSS JOIN hookline_deliveries d ON d.rowid IN (
             SELECT h.rowid FROM hookline_deliveries h INDEXED BY hookline_deliveries_open_due
             WHERE h.subscription_id = s.id AND h.status IN ('pending', 'failed')
               AND h.next_attempt_at <= @now AND (h.lease_until IS NULL OR h.lease_until <= @now)
               AND (s.ordering = 'concurrent' OR h.rowid = (${STRICT_HEAD}))
             ORDER BY h.next_attempt_at, h.rowid
             LIMIT max(@per, (SELECT coalesce(max(max_concurrency), 0) FROM hookline_subscriptions)))
           JOIN hookline_messages m ON m.id = d.message_id
           WHERE s.status = 'active' AND s.id NOT IN (SELECT value FROM json_each(@exclude))
           ORDER BY d.next_attempt_at, d.rowid
           LIMIT @limit`,
        ).all({ now, exclude: JSON.stringify(exclude), limit, per: perSubscription }) as JobRow[]
        const taken = new Map<string, number>()
        const claimed = rows.filter((r) => {
          const n = (taken.get(r.subscription_id) ?? 0) + 1
          taken.set(r.subscription_id, n)
          return n <= (r.max_concurrency ?? perSubscription)
        })
        const lease = stmt('UPDATE hookline_deliveries SET lease_until = ? WHERE id = ?')
        for (const r of claimed) lease.run(now + leaseMs, r.id)
        return claimed.map((r) => toJob(r, now))
      })
    },
    async claimDelivery(id, now, leaseMs) {
      return tx(() => {
        const row = stmt(
          `SELECT ${JOB_COLUMNS} FROM hookline_deliveries d
           JOIN hookline_messages m ON m.id = d.message_id
           JOIN hookline_subscriptions s ON s.id = d.subscription_id
           WHERE d.id = @id AND d.status IN ('pending', 'failed') AND (d.lease_until IS NULL OR d.lease_until <= @now)`,
        ).get({ id, now }) as JobRow | undefined
        if (!row) return null
        stmt('UPDATE hookline_deliveries SET lease_until = ? WHERE id = ?').run(now + leaseMs, id)
        return toJob(row, now)
      })
    },
    async releaseDeliveries(ids) {
      tx(() => {
        for (const id of ids)
          stmt('UPDATE hookline_deliveries SET lease_until = NULL WHERE id = ?').run(id)
      })
    },
    async recordAttempts(results: readonly AttemptResult[]) {
      return tx(() => {
        for (const r of results) {
          stmt(
            `INSERT INTO hookline_attempts (delivery_id, attempted_at, duration_ms, status_code, response_body, error)
             VALUES (?, ?, ?, ?, ?, ?)`,
          ).run(r.deliveryId, r.attemptedAt, r.durationMs, r.statusCode, r.responseBody, r.error)
          stmt(
            `UPDATE hookline_deliveries SET status = ?, attempts = attempts + 1, next_attempt_at = ?, lease_until = NULL,
               last_status_code = ?, last_error = ?, updated_at = ?
             WHERE id = ?`,
          ).run(r.status, r.nextAttemptAt, r.statusCode, r.error, r.attemptedAt, r.deliveryId)
          if (r.subscriptionAction) {
            stmt(
              "UPDATE hookline_subscriptions SET status = ?, disabled_reason = ?, updated_at = ? WHERE id = ? AND status != 'removed'",
            ).run(
              r.subscriptionAction.status,
              r.subscriptionAction.reason,
              r.attemptedAt,
              r.subscriptionId,
            )
            cancelPending(r.subscriptionId, r.attemptedAt)
          }
        }
        return failureRuns(results).map((run) => {
          const before = stmt(
            'SELECT consecutive_failures, failing_since FROM hookline_subscriptions WHERE id = ?',
          ).get(run.subscriptionId) as {
            consecutive_failures: number
            failing_since: number | null
          }
          const failuresAfter =
            (run.lastSuccessAt === null ? before.consecutive_failures : 0) + run.failures
          const failingSince =
            run.failures === 0
              ? null
              : run.lastSuccessAt === null
                ? (before.failing_since ?? run.firstFailureAt)
                : run.firstFailureAt
          stmt(
            `UPDATE hookline_subscriptions SET consecutive_failures = ?, failing_since = ?,
               last_success_at = coalesce(?, last_success_at) WHERE id = ?`,
          ).run(failuresAfter, failingSince, run.lastSuccessAt, run.subscriptionId)
          return {
            subscriptionId: run.subscriptionId,
            failuresBefore: before.consecutive_failures,
            failuresAfter,
            failingSince,
          }
        })
      })
    },
    async releaseLeases() {
      stmt('UPDATE hookline_deliveries SET lease_until = NULL WHERE lease_until IS NOT NULL').run()
    },
  }
}
