import { newId } from '../../ids.ts'
import { type ChangeRow, toChange, toFailedChange } from '../rows.ts'
import type { OutboxPart } from '../store-parts.ts'
import type { NewMessage } from '../types.ts'
import type { SqliteContext } from './sqlite-context.ts'

/** Stores messages and fans each out to its subscriptions; returns the deliveries made. */
function writeMessages({ stmt }: SqliteContext, messages: readonly NewMessage[]): number {
  const activeByEvent = new Map<string, string[]>()
  let deliveries = 0
  for (const m of messages) {
    stmt(
      'INSERT INTO hookline_messages (id, event, row_id, body, created_at) VALUES (?, ?, ?, ?, ?)',
    ).run(m.id, m.event, m.rowId, m.body, m.createdAt)
    let targets: string[]
    if (m.onlySubscriptionId) targets = [m.onlySubscriptionId]
    else {
      let active = activeByEvent.get(m.event)
      if (!active) {
        active = stmt(
          "SELECT id FROM hookline_subscriptions WHERE event = ? AND status = 'active' ORDER BY id",
        )
          .pluck()
          .all(m.event) as string[]
        activeByEvent.set(m.event, active)
      }
      targets = active
    }
    for (const subscriptionId of targets) {
      stmt(
        `INSERT INTO hookline_deliveries (id, message_id, subscription_id, event, status, attempts, next_attempt_at, created_at, updated_at)
         VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?)`,
      ).run(
        (m.onlySubscriptionId && m.onlyDeliveryId) || newId('dlv', m.createdAt),
        m.id,
        subscriptionId,
        m.event,
        m.createdAt,
        m.createdAt,
        m.createdAt,
      )
      deliveries++
    }
  }
  return deliveries
}

export function sqliteOutbox(c: SqliteContext): OutboxPart {
  const { stmt, tx } = c
  return {
    async readChanges(limit) {
      const rows = stmt(
        'SELECT * FROM hookline_changes WHERE error IS NULL ORDER BY id LIMIT ?',
      ).all(limit) as ChangeRow[]
      return rows.map(toChange)
    },
    async commitChanges(consumedChangeIds, messages) {
      return tx(() => {
        const made = writeMessages(c, messages)
        const del = stmt('DELETE FROM hookline_changes WHERE id = ?')
        for (const id of consumedChangeIds) del.run(id)
        return made
      })
    },
    async failChange(changeId, error) {
      stmt('UPDATE hookline_changes SET error = ? WHERE id = ?').run(error, changeId)
    },
    async listFailedChanges(limit) {
      const rows = stmt(
        'SELECT * FROM hookline_changes WHERE error IS NOT NULL ORDER BY id LIMIT ?',
      ).all(limit) as (ChangeRow & { error: string })[]
      return rows.map(toFailedChange)
    },
    async retryFailedChanges(ids) {
      return stmt(
        `UPDATE hookline_changes SET error = NULL
         WHERE error IS NOT NULL AND (@all = 1 OR id IN (SELECT value FROM json_each(@ids)))`,
      ).run({ all: ids ? 0 : 1, ids: JSON.stringify(ids ?? []) }).changes
    },
    async insertMessages(messages) {
      return tx(() => writeMessages(c, messages))
    },
    async countPendingChanges() {
      return stmt('SELECT count(*) FROM hookline_changes WHERE error IS NULL')
        .pluck()
        .get() as number
    },
  }
}
