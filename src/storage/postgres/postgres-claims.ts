import { countBySubscription, mayHaveMore, roomFor } from '../claim-offers.ts'
import { failureRuns } from '../failure-runs.ts'
import { type JobRow, toJob } from '../rows.ts'
import type { ClaimsPart } from '../store-parts.ts'
import type { HealthChange } from '../types.ts'
import type { PostgresContext } from './postgres-context.ts'
import { type Queryable, quoteIdent } from './postgres-sql.ts'

/** Lease rows, then return all that sending them needs, in due order (and `extra` columns). */
const leaseAndLoad = (c: PostgresContext, due: string, extra = '') => `WITH due AS (${due}),
  claimed AS (
    UPDATE ${c.t.deliveries} d SET lease_until = $1::bigint + $2::bigint
    FROM due WHERE d.id = due.id
    RETURNING d.id, d.message_id, d.subscription_id, d.event, d.attempts, d.next_attempt_at
  )
  SELECT c.*, m.body, s.target_url, s.secret, s.previous_secret, s.previous_secret_expires_at, s.headers,
    s.max_concurrency, s.ordering${extra}
  FROM claimed c
  JOIN ${c.t.messages} m ON m.id = c.message_id
  JOIN ${c.t.subscriptions} s ON s.id = c.subscription_id
  ORDER BY c.next_attempt_at, c.id`

type ClaimRow = JobRow & { share: number }

/** `fairShare` of the claim, computed in the statement. */
const shareSql = (c: PostgresContext) =>
  `(SELECT ceil(2.0 * $3::int / greatest(1, count(*)))::int FROM ${c.t.subscriptions} WHERE status = 'active')`

export function postgresClaims(c: PostgresContext): ClaimsPart {
  const { pool, t } = c
  return {
    async claimDeliveries(now, limit, leaseMs, exclude = [], perSubscription = limit, hold) {
      // Each active subscription offers its oldest due deliveries, at most its room
      // (`roomFor`, less what this claim already took from it), and at first only
      // `fairShare`; the `limit` oldest of those are leased
      // and returned, in one statement. Each offer skips the rows another process holds
      // (SKIP LOCKED) and locks its own, so offering a fair share rather than each whole
      // limit also keeps the rows locked near what is kept. A strictly ordered
      // subscription offers only the head of its queue.
      const claim = async (wanted: number, held: ReadonlyMap<string, number>, again: boolean) =>
        (
          await pool.query<ClaimRow>(
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
                 LIMIT greatest(0, least(
                   coalesce(s.max_concurrency, $5) * $9::int
                     - coalesce(($8::int[])[array_position($7::text[], s.id)], 0),
                   CASE WHEN NOT $6::boolean THEN ${shareSql(c)} END))
                 FOR UPDATE OF d SKIP LOCKED
               ) d
               WHERE s.status = 'active' AND NOT (s.id = ANY ($4::text[]))
               ORDER BY d.next_attempt_at, d.seq
               LIMIT $3::int`,
              `, ${shareSql(c)} AS share`,
            ),
            [
              now,
              leaseMs,
              wanted,
              exclude,
              perSubscription,
              again,
              [...held.keys()],
              [...held.values()],
              hold?.rounds ?? 1,
            ],
          )
        ).rows
      const held = hold?.held ?? new Map<string, number>()
      const rows = await claim(limit, held, false)
      if (mayHaveMore(rows, limit, rows[0]?.share ?? limit, roomFor(perSubscription, hold))) {
        const taken = countBySubscription(rows)
        for (const [id, n] of held) taken.set(id, (taken.get(id) ?? 0) + n)
        rows.push(...(await claim(limit - rows.length, taken, true)))
      }
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
    async releaseLeases() {
      // Other processes share this database: their leases are theirs. A crashed
      // process's leases simply run out.
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
      const actions = results.filter((r) => r.subscriptionAction)
      const runs = failureRuns(results)
      // One call of the `record_attempts` function (migration 007): one round trip.
      const { rows } = await pool.query<{
        o_subscription: string
        o_before: number
        o_after: number
        o_since: number | string | null
      }>(
        `SELECT * FROM ${quoteIdent(c.schema)}.record_attempts(
           $1::text[], $2::bigint[], $3::int[], $4::int[], $5::text[], $6::text[], $7::text[], $8::bigint[],
           $9::text[], $10::text[], $11::text[], $12::bigint[],
           $13::text[], $14::bigint[], $15::int[], $16::bigint[])`,
        [
          results.map((r) => r.deliveryId),
          results.map((r) => r.attemptedAt),
          results.map((r) => Math.round(r.durationMs)),
          results.map((r) => r.statusCode),
          results.map((r) => r.responseBody),
          results.map((r) => r.error),
          results.map((r) => r.status),
          results.map((r) => r.nextAttemptAt),
          actions.map((r) => r.subscriptionId),
          actions.map((r) => r.subscriptionAction!.status),
          actions.map((r) => r.subscriptionAction!.reason),
          actions.map((r) => r.attemptedAt),
          runs.map((r) => r.subscriptionId),
          runs.map((r) => r.lastSuccessAt),
          runs.map((r) => r.failures),
          runs.map((r) => r.firstFailureAt),
        ],
      )
      const moved = new Map(rows.map((r) => [r.o_subscription, r]))
      // In the order of the batch, as the SQLite store returns them.
      return runs.flatMap((run): HealthChange[] => {
        const r = moved.get(run.subscriptionId)
        return r
          ? [
              {
                subscriptionId: r.o_subscription,
                failuresBefore: r.o_before,
                failuresAfter: r.o_after,
                failingSince: r.o_since === null ? null : Number(r.o_since),
              },
            ]
          : []
      })
    },
  }
}

/** Locks subscription rows in id order, for writers of the same rows never to deadlock. */
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
