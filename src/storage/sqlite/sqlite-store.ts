import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { HooklineError } from '../../errors.ts'
import { newId } from '../../ids.ts'
import { failureRuns } from '../failure-runs.ts'
import {
  type AttemptRow,
  applyPatch,
  type ChangeRow,
  type DeliveryRow,
  type JobRow,
  type MessageRow,
  type SubscriptionRow,
  toAttempt,
  toChange,
  toDelivery,
  toJob,
  toMessage,
  toSubscription,
} from '../rows.ts'
import { DELIVERY_STATES as D } from '../states.ts'
import type { Store } from '../store.ts'
import type {
  AttemptResult,
  DeliveryFilter,
  NewMessage,
  RowId,
  SubscriptionPatch,
} from '../types.ts'
import { installSqliteCapture, quoteIdent } from './sqlite-capture.ts'

const JOB_COLUMNS = `d.id, d.message_id, d.subscription_id, d.event, d.attempts, m.body, s.target_url, s.secret,
  s.previous_secret, s.previous_secret_expires_at, s.headers`

/** The oldest unfinished delivery of subscription `s` (strict ordering). */
const STRICT_HEAD = `SELECT x.rowid FROM hookline_deliveries x INDEXED BY hookline_deliveries_open
  WHERE x.subscription_id = s.id AND x.status IN ('pending', 'failed') ORDER BY x.rowid LIMIT 1`

import { migrateSqlite } from './sqlite-migrate.ts'

export interface SqliteStoreOptions {
  /** A file path, or ':memory:'. */
  readonly filename: string
  /** How long a writer waits for another connection's lock, in ms. */
  readonly busyTimeoutMs?: number
}

/**
 * The embedded store: one better-sqlite3 connection in WAL mode. The application (any
 * process, any client) writes the same file; its writes reach Hookline through the
 * capture triggers. One delivery process per database file.
 */
export function openSqliteStore(
  options: SqliteStoreOptions,
): Store & { readonly filename: string; dataVersion(): number } {
  if (options.filename !== ':memory:') mkdirSync(dirname(options.filename), { recursive: true })
  const db = new Database(options.filename)
  db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`)
  db.pragma('journal_mode = WAL')
  // WAL + NORMAL survives a crash of any process; only an OS crash may lose the last commits.
  db.pragma('synchronous = NORMAL')
  db.pragma('foreign_keys = ON')

  const cache = new Map<string, Database.Statement>()
  const stmt = (sql: string): Database.Statement => {
    let s = cache.get(sql)
    if (!s) {
      s = db.prepare(sql)
      cache.set(sql, s)
    }
    return s
  }
  // BEGIN IMMEDIATE takes the write lock up front (no upgrade deadlocks with other
  // writers); prepared once, as db.transaction() would build a wrapper on every call.
  const begin = db.prepare('BEGIN IMMEDIATE')
  const commit = db.prepare('COMMIT')
  const rollback = db.prepare('ROLLBACK')
  const tx = <T>(fn: () => T): T => {
    begin.run()
    try {
      const result = fn()
      commit.run()
      return result
    } catch (error) {
      if (db.inTransaction) rollback.run()
      throw error
    }
  }

  const subscriptionById = (id: string) =>
    stmt('SELECT * FROM hookline_subscriptions WHERE id = ?').get(id) as SubscriptionRow | undefined

  const cancelPending = (subscriptionId: string, now: number) =>
    stmt(
      `UPDATE hookline_deliveries SET status = 'cancelled', next_attempt_at = NULL, lease_until = NULL, updated_at = ?
       WHERE subscription_id = ? AND status IN ('pending', 'failed')`,
    ).run(now, subscriptionId)

  /** Stores messages and fans each out to its subscriptions; returns the deliveries made. */
  const writeMessages = (messages: readonly NewMessage[]): number => {
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

  const dataVersion = db.prepare('PRAGMA data_version').pluck()
  const store: Store & { readonly filename: string; dataVersion(): number } = {
    filename: options.filename,
    /** Changes whenever another connection commits to the file. */
    dataVersion: () => dataVersion.get() as number,
    capabilities: { multiProcess: false, dialect: 'sqlite' },
    description: `sqlite:${options.filename}`,

    async migrate() {
      migrateSqlite(db)
    },
    async exec(sql) {
      db.exec(sql)
    },
    async close() {
      if (db.open) db.close()
    },

    async tableExists(table) {
      return (
        stmt("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?").pluck().get(table) !==
        undefined
      )
    },
    async installCapture(tables) {
      installSqliteCapture(db, tables)
    },
    async recentRowIds(table, limit, where) {
      const pk = db
        .prepare('SELECT name FROM pragma_table_info(?) WHERE pk > 0')
        .pluck()
        .all(table) as string[]
      const idExpr = pk.length === 1 ? quoteIdent(pk[0]!) : 'rowid'
      return db
        .prepare(
          `SELECT ${idExpr} FROM ${quoteIdent(table)} WHERE ${where ?? 'TRUE'} ORDER BY ${idExpr} DESC LIMIT ?`,
        )
        .pluck()
        .all(limit) as RowId[]
    },
    db: {
      async one(sql, params = []) {
        const row = stmt(sql).get(...params)
        if (row === undefined)
          throw new HooklineError('row_not_found', `query returned no row: ${sql}`)
        return row as any
      },
      async maybeOne(sql, params = []) {
        return (stmt(sql).get(...params) as any) ?? null
      },
      async all(sql, params = []) {
        return stmt(sql).all(...params) as any[]
      },
    },

    async readChanges(limit) {
      const rows = stmt(
        'SELECT * FROM hookline_changes WHERE error IS NULL ORDER BY id LIMIT ?',
      ).all(limit) as ChangeRow[]
      return rows.map(toChange)
    },
    async commitChanges(consumedChangeIds, messages) {
      return tx(() => {
        const made = writeMessages(messages)
        const del = stmt('DELETE FROM hookline_changes WHERE id = ?')
        for (const id of consumedChangeIds) del.run(id)
        return made
      })
    },
    async failChange(changeId, error) {
      stmt('UPDATE hookline_changes SET error = ? WHERE id = ?').run(error, changeId)
    },
    async insertMessages(messages) {
      return tx(() => writeMessages(messages))
    },
    async countPendingChanges() {
      return stmt('SELECT count(*) FROM hookline_changes WHERE error IS NULL')
        .pluck()
        .get() as number
    },

    async createSubscription(input) {
      return tx(() => {
        const existing = stmt(
          "SELECT * FROM hookline_subscriptions WHERE event = ? AND target_url = ? AND status != 'removed' ORDER BY created_at LIMIT 1",
        ).get(input.event, input.targetUrl) as SubscriptionRow | undefined
        if (existing) return { subscription: toSubscription(existing), created: false }
        stmt(
          `INSERT INTO hookline_subscriptions (id, event, target_url, status, secret, headers, created_at, updated_at, ordering)
           VALUES (?, ?, ?, 'active', ?, ?, ?, ?, ?)`,
        ).run(
          input.id,
          input.event,
          input.targetUrl,
          input.secret,
          JSON.stringify(input.headers),
          input.now,
          input.now,
          input.ordering ?? 'concurrent',
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
             updated_at = ?
           WHERE id = ?`,
        ).run(p.status, p.targetUrl, p.headers, p.disabledReason, p.ordering, now, id)
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

    async claimDeliveries(now, limit, leaseMs, exclude = [], perSubscription = limit) {
      return tx(() => {
        // Each active subscription offers its oldest due deliveries, at most
        // `perSubscription`; the oldest `limit` of those are claimed. CROSS JOIN keeps
        // subscriptions as the outer loop: one index probe each, never a table scan.
        const rows = stmt(
          `SELECT ${JOB_COLUMNS}
           FROM hookline_subscriptions s
           CROSS JOIN hookline_deliveries d ON d.rowid IN (
             SELECT h.rowid FROM hookline_deliveries h INDEXED BY hookline_deliveries_open_due
             WHERE h.subscription_id = s.id AND h.status IN ('pending', 'failed')
               AND h.next_attempt_at <= @now AND (h.lease_until IS NULL OR h.lease_until <= @now)
               AND (s.ordering = 'concurrent' OR h.rowid = (${STRICT_HEAD}))
             ORDER BY h.next_attempt_at, h.rowid
             LIMIT @per)
           JOIN hookline_messages m ON m.id = d.message_id
           WHERE s.status = 'active' AND s.id NOT IN (SELECT value FROM json_each(@exclude))
           ORDER BY d.next_attempt_at, d.rowid
           LIMIT @limit`,
        ).all({ now, exclude: JSON.stringify(exclude), limit, per: perSubscription }) as JobRow[]
        const lease = stmt('UPDATE hookline_deliveries SET lease_until = ? WHERE id = ?')
        for (const r of rows) lease.run(now + leaseMs, r.id)
        return rows.map((r) => toJob(r, now))
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
    async recoverDeliveries(subscriptionId, since, now) {
      return stmt(
        `UPDATE hookline_deliveries SET status = 'pending', next_attempt_at = @now, lease_until = NULL, updated_at = @now
         WHERE subscription_id = @sub AND created_at >= @since AND status IN ('failed', 'dead', 'cancelled')
           AND (lease_until IS NULL OR lease_until <= @now)`,
      ).run({ sub: subscriptionId, since, now }).changes
    },
    async prune(before) {
      return tx(() => {
        // A delivery made in the instant its subscription went away is never claimed: end it.
        stmt(
          `UPDATE hookline_deliveries SET status = 'cancelled', next_attempt_at = NULL, lease_until = NULL
           WHERE status IN ('pending', 'failed')
             AND subscription_id IN (SELECT id FROM hookline_subscriptions WHERE status != 'active')`,
        ).run()
        const ids = stmt(
          `SELECT m.id FROM hookline_messages m WHERE m.created_at < ?
           AND NOT EXISTS (SELECT 1 FROM hookline_deliveries d WHERE d.message_id = m.id AND d.status IN ('pending', 'failed'))`,
        )
          .pluck()
          .all(before) as string[]
        const del = stmt('DELETE FROM hookline_messages WHERE id = ?')
        for (const id of ids) del.run(id)
        return ids.length
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
    async nextDueAt() {
      return (
        (stmt(
          "SELECT min(next_attempt_at) FROM hookline_deliveries WHERE status IN ('pending', 'failed')",
        )
          .pluck()
          .get() as number | null) ?? null
      )
    },
    async releaseLeases() {
      stmt('UPDATE hookline_deliveries SET lease_until = NULL WHERE lease_until IS NOT NULL').run()
    },
    async getDelivery(id) {
      const row = stmt('SELECT * FROM hookline_deliveries WHERE id = ?').get(id) as
        | DeliveryRow
        | undefined
      if (!row) return null
      const attempts = stmt(
        'SELECT * FROM hookline_attempts WHERE delivery_id = ? ORDER BY id',
      ).all(id) as AttemptRow[]
      return { ...toDelivery(row), attemptLog: attempts.map(toAttempt) }
    },
    async listDeliveries(filter: DeliveryFilter) {
      const rows = stmt(
        `SELECT * FROM hookline_deliveries
         WHERE (@sub IS NULL OR subscription_id = @sub) AND (@status IS NULL OR status = @status)
           AND (@event IS NULL OR event = @event)
         ORDER BY created_at DESC, id DESC LIMIT @limit`,
      ).all({
        sub: filter.subscriptionId ?? null,
        status: filter.status ?? null,
        event: filter.event ?? null,
        limit: filter.limit,
      }) as DeliveryRow[]
      return rows.map(toDelivery)
    },
    async retryDelivery(id, now) {
      return tx(() => {
        // A leased delivery is being attempted right now: it is not made due again.
        const { changes } = stmt(
          `UPDATE hookline_deliveries SET status = ?, next_attempt_at = ?, lease_until = NULL, updated_at = ?
           WHERE id = ? AND (lease_until IS NULL OR lease_until <= ?)`,
        ).run(D.pending, now, now, id, now)
        const row = stmt('SELECT * FROM hookline_deliveries WHERE id = ?').get(id) as
          | DeliveryRow
          | undefined
        return row ? { delivery: toDelivery(row), retried: changes > 0 } : null
      })
    },
    async getMessage(id) {
      const row = stmt('SELECT * FROM hookline_messages WHERE id = ?').get(id) as
        | MessageRow
        | undefined
      return row ? toMessage(row) : null
    },
    async countMessages(event) {
      return stmt('SELECT count(*) FROM hookline_messages WHERE (@event IS NULL OR event = @event)')
        .pluck()
        .get({ event: event ?? null }) as number
    },

    async getMeta(key) {
      return (
        (stmt('SELECT value FROM hookline_meta WHERE key = ?').pluck().get(key) as
          | string
          | undefined) ?? null
      )
    },
    async setMeta(key, value) {
      stmt(
        'INSERT INTO hookline_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ).run(key, value)
    },
  }
  return store
}
