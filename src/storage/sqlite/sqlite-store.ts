import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { HooklineError } from '../../errors.ts'
import type { Store } from '../store.ts'
import type { RowId } from '../types.ts'
import { installSqliteCapture, quoteIdent } from './sqlite-capture.ts'
import { sqliteClaims } from './sqlite-claims.ts'
import { createSqliteContext } from './sqlite-context.ts'
import { sqliteDeliveries } from './sqlite-deliveries.ts'
import { migrateSqlite } from './sqlite-migrate.ts'
import { sqliteOutbox } from './sqlite-outbox.ts'
import { sqliteSubscriptions } from './sqlite-subscriptions.ts'

export interface SqliteStoreOptions {
  /** A file path, or ':memory:'. */
  readonly filename: string
  /** How long a writer waits for another connection's lock, in ms. */
  readonly busyTimeoutMs?: number
}

export interface SqliteStore extends Store {
  readonly filename: string
  /** Changes whenever another connection commits to the file. */
  dataVersion(): number
  /** After how many WAL pages this connection checkpoints (SQLite's default is 1,000). */
  walAutoCheckpoint(pages: number): void
}

/** The store, if it is a SQLite file (not `:memory:`). */
export function sqliteFile(store: Store): SqliteStore | null {
  return 'walAutoCheckpoint' in store && (store as SqliteStore).filename !== ':memory:'
    ? (store as SqliteStore)
    : null
}

/**
 * The embedded store: one better-sqlite3 connection in WAL mode. The application (any
 * process, any client) writes the same file; its writes reach Hookline through the
 * capture triggers. One delivery process per database file.
 */
export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  if (options.filename !== ':memory:') mkdirSync(dirname(options.filename), { recursive: true })
  const db = new Database(options.filename)
  db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`)
  db.pragma('journal_mode = WAL')
  // WAL + NORMAL survives a crash of any process; only an OS crash may lose the last commits.
  db.pragma('synchronous = NORMAL')
  db.pragma('foreign_keys = ON')

  const ctx = createSqliteContext(db)
  const { stmt } = ctx

  const dataVersion = db.prepare('PRAGMA data_version').pluck()
  const store: SqliteStore = {
    filename: options.filename,
    dataVersion: () => dataVersion.get() as number,
    walAutoCheckpoint(pages) {
      db.pragma(`wal_autocheckpoint = ${pages}`)
    },
    capabilities: { multiProcess: false, dialect: 'sqlite' },
    description: `sqlite:${options.filename}`,
    ...sqliteOutbox(ctx),
    ...sqliteSubscriptions(ctx),
    ...sqliteClaims(ctx),
    ...sqliteDeliveries(ctx),

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

    async getMeta(key) {
      return ctx.meta(key) ?? null
    },
    async setMeta(key, value) {
      stmt(
        'INSERT INTO hookline_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ).run(key, value)
    },
  }
  return store
}
