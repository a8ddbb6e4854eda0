import type Database from 'better-sqlite3'
import type { SubscriptionRow } from '../rows.ts'

/** What the SQLite store's parts share: the connection, cached statements, transactions. */
export interface SqliteContext {
  readonly db: Database.Database
  /** A prepared statement, cached by its SQL. */
  stmt(sql: string): Database.Statement
  /** Runs `fn` in one BEGIN IMMEDIATE transaction. */
  tx<T>(fn: () => T): T
  /** A setting kept in `hookline_meta`, if set. */
  meta(key: string): string | undefined
  subscriptionById(id: string): SubscriptionRow | undefined
  /** Cancels a subscription's deliveries still to be made. */
  cancelPending(subscriptionId: string, now: number): void
}

export function createSqliteContext(db: Database.Database): SqliteContext {
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

  const meta = (key: string) =>
    stmt('SELECT value FROM hookline_meta WHERE key = ?').pluck().get(key) as string | undefined

  return {
    db,
    stmt,
    tx,
    meta,
    subscriptionById,
    cancelPending: (id, now) => void cancelPending(id, now),
  }
}
