import { randomBytes } from 'node:crypto'
import { newId } from '../../ids.ts'
import { leasePicker } from '../claim-offers.ts'
import {
  type ChangeRow,
  type JobRow,
  type SubscriptionRow,
  toChange,
  toFailedChange,
  toJob,
} from '../rows.ts'
import type { OutboxPart } from '../store-parts.ts'
import type { Committed, DeliveryJob, LeaseOffer, NewMessage } from '../types.ts'
import type { SqliteContext } from './sqlite-context.ts'

/** An active subscription as the outbox step fans out to it (and leases to it). */
type Target = Omit<
  JobRow,
  'id' | 'message_id' | 'subscription_id' | 'event' | 'attempts' | 'body'
> &
  Pick<SubscriptionRow, 'id' | 'ordering'>

/**
 * Stores messages and fans each out to its subscriptions; leases some of the new
 * deliveries under `lease` (`leasePicker`). Returns the deliveries made and those leased.
 */
function writeMessages(
  { stmt }: SqliteContext,
  messages: readonly NewMessage[],
  lease: LeaseOffer | null = null,
): Committed {
  const activeByEvent = new Map<string, Target[]>()
  const pick = lease ? leasePicker(lease) : null
  const leased: DeliveryJob[] = []
  const subscriptions = new Set<string>()
  let deliveries = 0
  for (const m of messages) {
    stmt(
      'INSERT INTO hookline_messages (id, event, row_id, body, created_at) VALUES (?, ?, ?, ?, ?)',
    ).run(m.id, m.event, m.rowId, m.body, m.createdAt)
    let targets: readonly (Target | { id: string })[]
    if (m.onlySubscriptionId) targets = [{ id: m.onlySubscriptionId }]
    else {
      let active = activeByEvent.get(m.event)
      if (!active) {
        active = stmt(
          `SELECT id, ordering, target_url, secret, previous_secret, previous_secret_expires_at, headers, max_concurrency
           FROM hookline_subscriptions WHERE event = ? AND status = 'active' ORDER BY id`,
        ).all(m.event) as Target[]
        activeByEvent.set(m.event, active)
      }
      targets = active
    }
    for (const target of targets) {
      const id = (m.onlySubscriptionId && m.onlyDeliveryId) || newId('dlv', m.createdAt)
      const take = lease && pick && 'ordering' in target && pick(target)
      stmt(
        `INSERT INTO hookline_deliveries (id, message_id, subscription_id, event, status, attempts, next_attempt_at, lease_until, created_at, updated_at)
         VALUES (?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?)`,
      ).run(
        id,
        m.id,
        target.id,
        m.event,
        m.createdAt,
        take ? lease.now + lease.leaseMs : null,
        m.createdAt,
        m.createdAt,
      )
      if (take) {
        const row = { ...target, id, message_id: m.id, subscription_id: target.id }
        leased.push(toJob({ ...row, event: m.event, attempts: 0, body: m.body }, lease.now))
      }
      subscriptions.add(target.id)
      deliveries++
    }
  }
  return { deliveries, leased, subscriptions: [...subscriptions] }
}

/** `hookline_meta` keys: the seed of change messages' ids, and the change log's generation. */
const SEED_KEY = 'change_message_seed'
const GENERATION_KEY = 'change_log_generation'

export function sqliteOutbox(c: SqliteContext): OutboxPart {
  const { stmt, tx, meta } = c
  let seed: string | undefined
  return {
    async changeMessageSeed() {
      if (seed === undefined) {
        stmt(
          'INSERT INTO hookline_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING',
        ).run(SEED_KEY, randomBytes(16).toString('hex'))
        seed = meta(SEED_KEY)!
      }
      // SQLite gives a new change the id above the log's highest: once the outbox step has
      // consumed and deleted the highest, the next change may take its id again. That step
      // moves the log to its next generation, part of the seed, so that a seed and a change
      // id still name one change.
      return `${seed}.${meta(GENERATION_KEY) ?? 0}`
    },
    async readChanges(limit) {
      const rows = stmt(
        'SELECT * FROM hookline_changes WHERE error IS NULL ORDER BY id LIMIT ?',
      ).all(limit) as ChangeRow[]
      return rows.map(toChange)
    },
    async commitChanges(consumedChangeIds, messages, lease) {
      return tx(() => {
        const made = writeMessages(c, messages, lease)
        const del = stmt('DELETE FROM hookline_changes WHERE id = ?')
        let highest = Number.NEGATIVE_INFINITY
        for (const id of consumedChangeIds) {
          del.run(id)
          highest = Math.max(highest, id)
        }
        const top = stmt('SELECT max(id) FROM hookline_changes').pluck().get() as number | null
        if (consumedChangeIds.length > 0 && (top === null || top < highest))
          stmt(
            `INSERT INTO hookline_meta (key, value) VALUES (?, '1')
             ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)`,
          ).run(GENERATION_KEY)
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
      return tx(() => writeMessages(c, messages).deliveries)
    },
    async countPendingChanges() {
      return stmt('SELECT count(*) FROM hookline_changes WHERE error IS NULL')
        .pluck()
        .get() as number
    },
  }
}
