import { randomBytes } from 'node:crypto'
import { HooklineError } from '../../errors.ts'
import { type ChangeRow, type JobRow, toChange, toFailedChange, toJob } from '../rows.ts'
import type { OutboxPart } from '../store-parts.ts'
import type { Committed, LeaseOffer, NewMessage } from '../types.ts'
import type { PostgresContext } from './postgres-context.ts'
import { quoteIdent } from './postgres-sql.ts'

/** The `meta` key of the seed of change messages' ids (`Store.changeMessageSeed`). */
const SEED_KEY = 'change_message_seed'

/**
 * Consumes the changes (when given), stores the messages, fans each out to the active
 * subscriptions of its event (or to its one subscription), leases some of the new
 * deliveries under `lease`, and notifies other Hookline processes of the rest: one call of
 * the `write_messages` function (migrations 004, 010, 012, 013), one round trip. Returns the
 * deliveries made, those leased, and the subscriptions they went to.
 *
 * A step that consumes changes commits without waiting for the disk: its messages' ids
 * derive from the changes (`changeMessageSeed`), so should PostgreSQL lose the commit in
 * a crash, the changes are read again and their events sent again under the same
 * `webhook-id`s, which receivers de-duplicate. A later commit that waits (an attempt's
 * record) flushes it too. Other messages (app code, test sends) wait for the disk.
 */
async function writeMessages(
  c: PostgresContext,
  changeIds: readonly number[] | null,
  messages: readonly NewMessage[],
  lease: LeaseOffer | null = null,
): Promise<Committed> {
  try {
    const { rows } = await c.pool.query<{
      made: number
      leased: Omit<JobRow, 'body'>[]
      fanned_to: string[]
    }>(
      `SELECT w.* FROM ${quoteIdent(c.schema)}.write_messages($1::bigint[], $2::text[], $3::text[], $4::jsonb[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9, $10,
         $11::bigint, $12::int, $13::int, $14::text[], $15::int, $16::text[]) AS w${changeIds ? `, set_config('synchronous_commit', 'off', true)` : ''}`,
      [
        changeIds,
        messages.map((m) => m.id),
        messages.map((m) => m.event),
        messages.map((m) => (m.rowId === null ? null : JSON.stringify(m.rowId))),
        messages.map((m) => m.body),
        messages.map((m) => m.createdAt),
        messages.map((m) => m.onlySubscriptionId ?? null),
        messages.map((m) => (m.onlySubscriptionId && m.onlyDeliveryId) || null),
        c.channel,
        c.instance,
        lease ? lease.now + lease.leaseMs : null,
        lease?.limit ?? 0,
        lease?.perSubscription ?? 0,
        lease?.exclude ?? [],
        lease?.deep?.limit ?? 0,
        [...(lease?.deep?.to ?? [])],
      ],
    )
    const made = Number(rows[0]?.made ?? 0)
    c.growth.count(made)
    if (changeIds) c.consumed.count(changeIds.length)
    const bodies = new Map(messages.map((m) => [m.id, m.body]))
    const leased = (rows[0]?.leased ?? []).map((r) =>
      toJob({ ...r, body: bodies.get(r.message_id)! }, lease!.now),
    )
    return { deliveries: made, leased, subscriptions: rows[0]?.fanned_to ?? [] }
  } catch (error) {
    const e = error as { code?: string; message?: string }
    if (e.code === 'HL001')
      throw new HooklineError('changes_already_consumed', e.message ?? '', { cause: error })
    throw error
  }
}

/** `load`'s result, asked for once and kept; asked for again after a failure. */
function onceSucceeded<T>(load: () => Promise<T>): () => Promise<T> {
  let kept: Promise<T> | null = null
  return () =>
    (kept ??= load().catch((error: unknown) => {
      kept = null
      throw error
    }))
}

/** The change log and the outbox step. */
export function postgresOutbox(c: PostgresContext): OutboxPart {
  const { pool, t } = c
  // A read that waits must end well within the connections' statement_timeout, if any.
  const waitCap = onceSucceeded(async () => {
    const { rows } = await pool.query<{ ms: number }>(
      `SELECT setting::integer AS ms FROM pg_settings WHERE name = 'statement_timeout'`,
    )
    return rows[0]?.ms ? rows[0].ms / 2 : Number.POSITIVE_INFINITY
  })
  // Made once per database; of two processes making it at once, the second reads the
  // first's on its next try (its statement's snapshot predates that commit). Change ids are
  // never reused here (an identity column), so the seed never changes.
  const seed = onceSucceeded(async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const { rows } = await pool.query<{ value: string }>(
        `WITH made AS (
           INSERT INTO ${t.meta} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING value
         )
         SELECT value FROM made UNION ALL SELECT value FROM ${t.meta} WHERE key = $1`,
        [SEED_KEY, randomBytes(16).toString('hex')],
      )
      if (rows[0]) return rows[0].value
    }
    throw new Error(`cannot read nor store ${t.meta} '${SEED_KEY}'`)
  })
  return {
    async readChanges(limit) {
      const { rows } = await pool.query<ChangeRow>(
        `SELECT * FROM ${t.changes} WHERE error IS NULL ORDER BY id LIMIT $1`,
        [limit],
      )
      return rows.map(toChange)
    },
    async waitForChanges(limit, { ms, quietMs, everyMaxMs }) {
      const wait = Math.min(ms, await waitCap())
      const { rows } = await pool.query<ChangeRow>(
        `SELECT * FROM ${quoteIdent(c.schema)}.read_changes($1, $2, $3, $4)`,
        [limit, Math.round(wait), Math.round(quietMs), Math.round(everyMaxMs)],
      )
      return rows.map(toChange)
    },
    changeMessageSeed: seed,
    async commitChanges(consumedChangeIds, messages, lease) {
      // The changes are deleted first, which locks them: a second consumer (one that lost
      // the lead without knowing) finds them gone and its whole call rolls back.
      return writeMessages(c, consumedChangeIds, messages, lease)
    },
    async failChange(changeId, error) {
      await pool.query(`UPDATE ${t.changes} SET error = $1 WHERE id = $2`, [error, changeId])
    },
    async listFailedChanges(limit) {
      const { rows } = await pool.query<ChangeRow & { error: string }>(
        `SELECT * FROM ${t.changes} WHERE error IS NOT NULL ORDER BY id LIMIT $1`,
        [limit],
      )
      return rows.map(toFailedChange)
    },
    async retryFailedChanges(ids) {
      const { rowCount } = await pool.query(
        `UPDATE ${t.changes} SET error = NULL WHERE error IS NOT NULL AND ($1::bigint[] IS NULL OR id = ANY ($1::bigint[]))`,
        [ids ? [...ids] : null],
      )
      return rowCount ?? 0
    },
    async insertMessages(messages) {
      return (await writeMessages(c, null, messages)).deliveries
    },
    async countPendingChanges() {
      const { rows } = await pool.query<{ n: number }>(
        `SELECT count(*) AS n FROM ${t.changes} WHERE error IS NULL`,
      )
      return rows[0]?.n ?? 0
    },
  }
}
