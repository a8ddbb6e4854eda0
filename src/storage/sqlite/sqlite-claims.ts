import { fairShare, mayHaveMore, roomFor } from '../claim-offers.ts'
import { type FailureRun, failureRuns } from '../failure-runs.ts'
import { type JobRow, toJob } from '../rows.ts'
import type { ClaimsPart } from '../store-parts.ts'
import type { AttemptResult, HealthChange } from '../types.ts'
import type { SqliteContext } from './sqlite-context.ts'

const JOB_COLUMNS = `d.id, d.message_id, d.subscription_id, d.event, d.attempts, m.body, s.target_url, s.secret,
  s.previous_secret, s.previous_secret_expires_at, s.headers, s.max_concurrency, s.ordering`

/** The oldest unfinished delivery of subscription `s` (strict ordering). */
const STRICT_HEAD = `SELECT x.rowid FROM hookline_deliveries x INDEXED BY hookline_deliveries_open
  WHERE x.subscription_id = s.id AND x.status IN ('pending', 'failed') ORDER BY x.rowid LIMIT 1`

// Each active subscription offers its `@offer` oldest due deliveries; the oldest `@limit`
// of those are kept, then joined to their messages. CROSS JOIN keeps subscriptions as
// the outer loop: one index probe each, never a table scan. (SQLite's LIMIT cannot name
// the outer row, so each subscription's own limit is applied to the rows returned.)
const PICK = `WITH offered AS (
     SELECT h.rowid AS rid, h.next_attempt_at AS due
     FROM hookline_subscriptions s
     CROSS JOIN hookline_deliveries h ON h.rowid IN (
       SELECT x.rowid FROM hookline_deliveries x INDEXED BY hookline_deliveries_open_due
       WHERE x.subscription_id = s.id AND x.status IN ('pending', 'failed') AND x.next_attempt_at <= @now
         AND (x.lease_until IS NULL OR x.lease_until <= @now)
         AND (s.ordering = 'concurrent' OR x.rowid = (${STRICT_HEAD}))
       ORDER BY x.next_attempt_at, x.rowid
       LIMIT @offer)
     WHERE s.status = 'active' AND s.id NOT IN (SELECT value FROM json_each(@exclude))
     ORDER BY due, rid
     LIMIT @limit
   )
   SELECT o.rid, ${JOB_COLUMNS}
   FROM offered o
   JOIN hookline_deliveries d ON d.rowid = o.rid
   JOIN hookline_messages m ON m.id = d.message_id
   JOIN hookline_subscriptions s ON s.id = d.subscription_id
   ORDER BY o.due, o.rid`

type ClaimRow = JobRow & { rid: number }

/** Carries each subscription's run of failures forward; returns how each one moved. */
function carryHealth({ stmt }: SqliteContext, runs: readonly FailureRun[]): HealthChange[] {
  const before = new Map(
    (
      stmt(
        `SELECT id, consecutive_failures, failing_since FROM hookline_subscriptions
         WHERE id IN (SELECT value FROM json_each(?))`,
      ).all(JSON.stringify(runs.map((r) => r.subscriptionId))) as {
        id: string
        consecutive_failures: number
        failing_since: number | null
      }[]
    ).map((row) => [row.id, row]),
  )
  const moved = runs.flatMap((run): HealthChange[] => {
    const was = before.get(run.subscriptionId)
    if (!was) return []
    const failuresAfter = (run.lastSuccessAt === null ? was.consecutive_failures : 0) + run.failures
    const failingSince =
      run.failures === 0
        ? null
        : run.lastSuccessAt === null
          ? (was.failing_since ?? run.firstFailureAt)
          : run.firstFailureAt
    return [
      {
        subscriptionId: run.subscriptionId,
        failuresBefore: was.consecutive_failures,
        failuresAfter,
        failingSince,
      },
    ]
  })
  const success = new Map(runs.map((r) => [r.subscriptionId, r.lastSuccessAt]))
  stmt(
    `UPDATE hookline_subscriptions AS s SET consecutive_failures = j.value->>1, failing_since = j.value->>2,
       last_success_at = coalesce(j.value->>3, s.last_success_at)
     FROM json_each(?) AS j WHERE s.id = j.value->>0`,
  ).run(
    JSON.stringify(
      moved.map((h) => [
        h.subscriptionId,
        h.failuresAfter,
        h.failingSince,
        success.get(h.subscriptionId),
      ]),
    ),
  )
  return moved
}

export function sqliteClaims(c: SqliteContext): ClaimsPart {
  const { stmt, tx, cancelPending } = c
  return {
    async claimDeliveries(now, limit, leaseMs, exclude = [], perSubscription = limit, hold) {
      return tx(() => {
        const { active, largest } = stmt(
          `SELECT count(*) AS active, coalesce(max(max_concurrency), 0) AS largest
           FROM hookline_subscriptions WHERE status = 'active'`,
        ).get() as { active: number; largest: number }
        // Each subscription offers at most its room (`roomFor`) and never more than the
        // claim can take; at first only its `fairShare`.
        const room = roomFor(perSubscription, hold)
        const most = Math.min(limit, Math.max(perSubscription, largest) * (hold?.rounds ?? 1))
        const share = Math.min(most, fairShare(limit, active))
        const params = { now, exclude: JSON.stringify(exclude), limit }
        let rows = stmt(PICK).all({ ...params, offer: share }) as ClaimRow[]
        if (share < most && mayHaveMore(rows, limit, share, room))
          rows = stmt(PICK).all({ ...params, offer: most }) as ClaimRow[]
        const taken = new Map<string, number>()
        const claimed = rows.filter((r) => {
          const n = (taken.get(r.subscription_id) ?? 0) + 1
          taken.set(r.subscription_id, n)
          return n <= room(r.subscription_id, r.max_concurrency)
        })
        const lease = stmt('UPDATE hookline_deliveries SET lease_until = ? WHERE rowid = ?')
        for (const r of claimed) lease.run(now + leaseMs, r.rid)
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
      if (results.length === 0) return []
      return tx(() => {
        const attempt = stmt(
          `INSERT INTO hookline_attempts (delivery_id, attempted_at, duration_ms, status_code, response_body, error)
           VALUES (?, ?, ?, ?, ?, ?)`,
        )
        const outcome = stmt(
          `UPDATE hookline_deliveries SET status = ?, attempts = attempts + 1, next_attempt_at = ?, lease_until = NULL,
             last_status_code = ?, last_error = ?, updated_at = ?
           WHERE id = ?`,
        )
        for (const r of results) {
          attempt.run(
            r.deliveryId,
            r.attemptedAt,
            r.durationMs,
            r.statusCode,
            r.responseBody,
            r.error,
          )
          outcome.run(r.status, r.nextAttemptAt, r.statusCode, r.error, r.attemptedAt, r.deliveryId)
        }
        for (const r of results) {
          if (!r.subscriptionAction) continue
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
        return carryHealth(c, failureRuns(results))
      })
    },
    async releaseLeases() {
      stmt('UPDATE hookline_deliveries SET lease_until = NULL WHERE lease_until IS NOT NULL').run()
    },
  }
}
