import { HooklineError } from '../../errors.ts'
import { newId } from '../../ids.ts'
import { type ChangeRow, toChange, toFailedChange } from '../rows.ts'
import type { Store } from '../store.ts'
import type { NewMessage } from '../types.ts'
import type { PostgresContext } from './postgres-context.ts'
import { type Queryable, withTransaction } from './postgres-sql.ts'

type OutboxPart = Pick<
  Store,
  | 'readChanges'
  | 'commitChanges'
  | 'failChange'
  | 'listFailedChanges'
  | 'retryFailedChanges'
  | 'insertMessages'
  | 'countPendingChanges'
>

/**
 * Stores messages, fans each out to the active subscriptions of its event, and notifies
 * other Hookline processes that deliveries are due. Returns the deliveries made.
 */
export async function writeMessages(
  c: PostgresContext,
  client: Queryable,
  messages: readonly NewMessage[],
): Promise<number> {
  if (messages.length === 0) return 0
  const { t } = c
  await client.query(
    `INSERT INTO ${t.messages} (id, event, row_id, body, created_at)
     SELECT * FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::text[], $5::bigint[])`,
    [
      messages.map((m) => m.id),
      messages.map((m) => m.event),
      messages.map((m) => (m.rowId === null ? null : JSON.stringify(m.rowId))),
      messages.map((m) => m.body),
      messages.map((m) => m.createdAt),
    ],
  )
  const events = [...new Set(messages.filter((m) => !m.onlySubscriptionId).map((m) => m.event))]
  const activeByEvent = new Map<string, string[]>()
  if (events.length > 0) {
    const { rows } = await client.query<{ id: string; event: string }>(
      `SELECT id, event FROM ${t.subscriptions} WHERE status = 'active' AND event = ANY ($1::text[]) ORDER BY id`,
      [events],
    )
    for (const r of rows) activeByEvent.set(r.event, [...(activeByEvent.get(r.event) ?? []), r.id])
  }
  const d = { id: [] as string[], message: [] as string[], sub: [] as string[] }
  const ev: string[] = []
  const at: number[] = []
  for (const m of messages) {
    const targets = m.onlySubscriptionId
      ? [m.onlySubscriptionId]
      : (activeByEvent.get(m.event) ?? [])
    for (const subscriptionId of targets) {
      d.id.push((m.onlySubscriptionId && m.onlyDeliveryId) || newId('dlv', m.createdAt))
      d.message.push(m.id)
      d.sub.push(subscriptionId)
      ev.push(m.event)
      at.push(m.createdAt)
    }
  }
  if (d.id.length === 0) return 0
  await client.query(
    `INSERT INTO ${t.deliveries} (id, message_id, subscription_id, event, status, attempts, next_attempt_at, created_at, updated_at)
     SELECT id, message_id, subscription_id, event, 'pending', 0, at, at, at
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[])
       AS n (id, message_id, subscription_id, event, at)`,
    [d.id, d.message, d.sub, ev, at],
  )
  // Delivered at commit, to every listening Hookline process (this one included).
  await client.query('SELECT pg_notify($1, $2)', [c.channel, 'deliveries'])
  return d.id.length
}

/** The change log and the outbox step. */
export function postgresOutbox(c: PostgresContext): OutboxPart {
  const { pool, t } = c
  return {
    async readChanges(limit) {
      const { rows } = await pool.query<ChangeRow>(
        `SELECT * FROM ${t.changes} WHERE error IS NULL ORDER BY id LIMIT $1`,
        [limit],
      )
      return rows.map(toChange)
    },
    async commitChanges(consumedChangeIds, messages) {
      return withTransaction(pool, async (client) => {
        // Deleting first locks the changes: a second consumer (one that lost the lead
        // without knowing) finds them gone and rolls back instead of doubling messages.
        const { rowCount } = await client.query(
          `DELETE FROM ${t.changes} WHERE id = ANY ($1::bigint[])`,
          [consumedChangeIds],
        )
        if ((rowCount ?? 0) !== new Set(consumedChangeIds).size)
          throw new HooklineError(
            'changes_already_consumed',
            `${consumedChangeIds.length - (rowCount ?? 0)} of ${consumedChangeIds.length} changes were consumed by another Hookline process meanwhile: this batch is rolled back and read again`,
          )
        return writeMessages(c, client, messages)
      })
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
      return withTransaction(pool, (client) => writeMessages(c, client, messages))
    },
    async countPendingChanges() {
      const { rows } = await pool.query<{ n: number }>(
        `SELECT count(*) AS n FROM ${t.changes} WHERE error IS NULL`,
      )
      return rows[0]?.n ?? 0
    },
  }
}
