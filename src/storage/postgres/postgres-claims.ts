import { failureRuns } from '../failure-runs.ts'
import { type JobRow, toJob } from '../rows.ts'
import type { Store } from '../store.ts'
import type { AttemptResult, HealthChange } from '../types.ts'
import type { PostgresContext } from './postgres-context.ts'
import { type Queryable, withTransaction } from './postgres-sql.ts'
import { cancelPending } from './postgres-subscriptions.ts'

type ClaimsPart = Pick<
  Store,
  'claimDeliveries' | 'claimDelivery' | 'releaseDeliveries' | 'recordAttempts'
>

/** Lease rows, then return all that sending them needs, in due order. */
const leaseAndLoad = (c: PostgresContext, due: string) => `WITH due AS (${due}),
  claimed AS (
    UPDATE ${c.t.deliveries} d SET lease_until = $1::bigint + $2::bigint
    FROM due WHERE d.id = due.id
    RETURNING d.id, d.message_id, d.subscription_id, d.event, d.attempts, d.next_attempt_at
  )
  SELECT c.*, m.body, s.target_url, s.secret, s.previous_secret, s.previous_secret_expires_at, s.headers,
    s.max_concurrency
  FROM claimed c
  JOIN ${c.t.messages} m ON m.id = c.message_id
  JOIN ${c.t.subscriptions} s ON s.id = c.subscription_id
  ORDER BY c.next_attempt_at, c.id`

export function postgresClaims(c: PostgresContext): ClaimsPart {
  const { pool, t } = c
  return {
    async claimDeliveries(now, limit, leaseMs, exclude = [], perSubscription = limit) {
      // One statement: for each active subscription, lock its oldest due rows that no
      // other process holds (SKIP LOCKED), at most `perSubscription` of them; keep the
      // `limit` oldest of those, lease them, and return them. A strictly ordered
      // subscription offers only the head of its queue.
      const { rows } = await pool.query<JobRow>(
        leaseAndLoad(
          c,
          `SELECT d.id FROM ${t.subscriptions} s
           CROSS JOIN LATERAL (
             SELECT d.id, d.next_attempt_at, d.seq FROM ${t.deliveries} d
             WHERE d.subscription_id = s.id AND d.status IN ('pending', 'failed')
               AND d.next_attempt_at <= $1 AND (d.lease_until IS NULL OR d.lease_until <= $1)
               AND (s.ordering = 'concurrent' OR d.seq = (
                 SELECT min(h.seq) FROM ${t.deliveries} h
                 WHERE h.subscription_id = s.id AND h.status IN ('pending', 'failed')))
             ORDER BY d.next_attempt_at, d.seq
             LIMIT coalesce(s.max_concurrency, $5)
             FOR UPDATE OF d SKIP LOCKED
           ) d
           WHERE s.status = 'active' AND NOT (s.id = ANY ($4::text[]))
           ORDER BY d.next_attempt_at, d.seq
           LIMIT $3`,
        ),
        [now, leaseMs, limit, exclude, perSubscription],
      )
      return rows.map((r) => toJob(r, now))
    },
    async claimDelivery(id, now, leaseMs) {
      const { rows } = await pool.query<JobRow>(
        leaseAndLoad(
          c,
          `SELECT d.id FROM ${t.deliveries} d
           WHERE d.id = $3 AND d.status IN ('pending', 'failed')
             AND (d.lease_until IS NULL OR d.lease_until <= $1)
           FOR UPDATE SKIP LOCKED`,
        ),
        [now, leaseMs, id],
      )
      return rows[0] ? toJob(rows[0], now) : null
    },
    async releaseDeliveries(ids) {
      if (ids.length === 0) return
      await pool.query(
        `UPDATE ${t.deliveries} SET lease_until = NULL WHERE id = ANY ($1::text[])`,
        [ids],
      )
    },
    async recordAttempts(results) {
      if (results.length === 0) return []
      return withTransaction(pool, async (client) => {
        // Subscriptions before their deliveries, as every transaction that touches both
        // (an unsubscribe cancelling deliveries, another process recording): the other
        // order deadlocks with them.
        await lockSubscriptions(c, client, [...new Set(results.map((r) => r.subscriptionId))])
        await writeAttempts(c, client, results)
        const actions = results.filter((r) => r.subscriptionAction)
        if (actions.length > 0) {
          await client.query(
            `UPDATE ${t.subscriptions} s SET status = a.status, disabled_reason = a.reason, updated_at = a.at
             FROM (
               SELECT DISTINCT ON (id) * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
                 WITH ORDINALITY AS u (id, status, reason, at, ord)
               ORDER BY id, ord DESC
             ) a
             WHERE s.id = a.id AND s.status != 'removed'`,
            [
              actions.map((r) => r.subscriptionId),
              actions.map((r) => r.subscriptionAction!.status),
              actions.map((r) => r.subscriptionAction!.reason),
              actions.map((r) => r.attemptedAt),
            ],
          )
          const last = Math.max(...actions.map((r) => r.attemptedAt))
          await cancelPending(c, client, [...new Set(actions.map((r) => r.subscriptionId))], last)
        }
        return updateHealth(c, client, results)
      })
    },
  }
}

/**
 * Locks subscription rows in id order. `FOR NO KEY UPDATE` leaves the key-share locks of
 * transactions inserting deliveries for them alone.
 */
export async function lockSubscriptions(
  c: PostgresContext,
  client: Queryable,
  ids: readonly string[],
): Promise<void> {
  await client.query(
    `SELECT id FROM ${c.t.subscriptions} WHERE id = ANY ($1::text[]) ORDER BY id FOR NO KEY UPDATE`,
    [ids],
  )
}

/** Appends the attempts to the log and moves each delivery to its outcome. */
async function writeAttempts(
  c: PostgresContext,
  client: Queryable,
  results: readonly AttemptResult[],
): Promise<void> {
  await client.query(
    `INSERT INTO ${c.t.attempts} (delivery_id, attempted_at, duration_ms, status_code, response_body, error)
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::int[], $4::int[], $5::text[], $6::text[])`,
    [
      results.map((r) => r.deliveryId),
      results.map((r) => r.attemptedAt),
      results.map((r) => Math.round(r.durationMs)),
      results.map((r) => r.statusCode),
      results.map((r) => r.responseBody),
      results.map((r) => r.error),
    ],
  )
  // A delivery seen twice in one batch (a lease that ran out) keeps its last outcome.
  await client.query(
    `UPDATE ${c.t.deliveries} d SET status = r.status, attempts = d.attempts + r.n,
       next_attempt_at = r.next_attempt_at, lease_until = NULL, last_status_code = r.status_code,
       last_error = r.error, updated_at = r.attempted_at
     FROM (
       SELECT DISTINCT ON (id) *, count(*) OVER (PARTITION BY id) AS n
       FROM unnest($1::text[], $2::text[], $3::bigint[], $4::int[], $5::text[], $6::bigint[])
         WITH ORDINALITY AS u (id, status, next_attempt_at, status_code, error, attempted_at, ord)
       ORDER BY id, ord DESC
     ) r
     WHERE d.id = r.id`,
    [
      results.map((r) => r.deliveryId),
      results.map((r) => r.status),
      results.map((r) => r.nextAttemptAt),
      results.map((r) => r.statusCode),
      results.map((r) => r.error),
      results.map((r) => r.attemptedAt),
    ],
  )
}

/** Carries each subscription's run of failures forward (locked by the caller: other processes record too). */
async function updateHealth(
  c: PostgresContext,
  client: Queryable,
  results: readonly AttemptResult[],
): Promise<HealthChange[]> {
  const runs = failureRuns(results)
  const { rows } = await client.query<{
    id: string
    consecutive_failures: number
    failing_since: number | null
  }>(
    `SELECT id, consecutive_failures, failing_since FROM ${c.t.subscriptions}
     WHERE id = ANY ($1::text[])`,
    [runs.map((r) => r.subscriptionId)],
  )
  const before = new Map(rows.map((r) => [r.id, r]))
  const changes: (HealthChange & { lastSuccessAt: number | null })[] = []
  for (const run of runs) {
    const b = before.get(run.subscriptionId)
    if (!b) continue
    const failuresAfter = (run.lastSuccessAt === null ? b.consecutive_failures : 0) + run.failures
    const failingSince =
      run.failures === 0
        ? null
        : run.lastSuccessAt === null
          ? (b.failing_since ?? run.firstFailureAt)
          : run.firstFailureAt
    changes.push({
      subscriptionId: run.subscriptionId,
      failuresBefore: b.consecutive_failures,
      failuresAfter,
      failingSince,
      lastSuccessAt: run.lastSuccessAt,
    })
  }
  await client.query(
    `UPDATE ${c.t.subscriptions} s SET consecutive_failures = h.failures, failing_since = h.since,
       last_success_at = coalesce(h.success, s.last_success_at)
     FROM unnest($1::text[], $2::int[], $3::bigint[], $4::bigint[]) AS h (id, failures, since, success)
     WHERE s.id = h.id`,
    [
      changes.map((h) => h.subscriptionId),
      changes.map((h) => h.failuresAfter),
      changes.map((h) => h.failingSince),
      changes.map((h) => h.lastSuccessAt),
    ],
  )
  return changes.map(({ lastSuccessAt: _, ...h }) => h)
}
