import { HooklineError } from '../../errors.ts'
import { type ChangeRow, toChange, toFailedChange } from '../rows.ts'
import type { OutboxPart } from '../store-parts.ts'
import type { NewMessage } from '../types.ts'
import type { PostgresContext } from './postgres-context.ts'
import { quoteIdent } from './postgres-sql.ts'

/**
 * Consumes the changes (when given), stores the messages, fans each out to the active
 * subscriptions of its event (or to its one subscription), and notifies other Hookline
 * processes: one call of the `write_messages` function (migration 004), one round trip.
 * Returns the deliveries made.
 */
async function writeMessages(
  c: PostgresContext,
  changeIds: readonly number[] | null,
  messages: readonly NewMessage[],
): Promise<number> {
  try {
    const { rows } = await c.pool.query<{ made: number }>(
      `SELECT ${quoteIdent(c.schema)}.write_messages($1::bigint[], $2::text[], $3::text[], $4::jsonb[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9, $10) AS made`,
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
      ],
    )
    const made = Number(rows[0]?.made ?? 0)
    c.growth.wrote(made)
    return made
  } catch (error) {
    const e = error as { code?: string; message?: string }
    if (e.code === 'HL001')
      throw new HooklineError('changes_already_consumed', e.message ?? '', { cause: error })
    throw error
  }
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
      // The changes are deleted first, which locks them: a second consumer (one that lost
      // the lead without knowing) finds them gone and its whole call rolls back.
      return writeMessages(c, consumedChangeIds, messages)
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
      return writeMessages(c, null, messages)
    },
    async countPendingChanges() {
      const { rows } = await pool.query<{ n: number }>(
        `SELECT count(*) AS n FROM ${t.changes} WHERE error IS NULL`,
      )
      return rows[0]?.n ?? 0
    },
  }
}
