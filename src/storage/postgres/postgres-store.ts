import pg from 'pg'
import type { Logger } from 'pino'
import { ConfigError, HooklineError } from '../../errors.ts'
import { redactUrl } from '../open-store.ts'
import type { Store } from '../store.ts'
import type { RowId } from '../types.ts'
import { installPostgresCapture, primaryKeyColumn, tableRegclass } from './postgres-capture.ts'
import { postgresClaims } from './postgres-claims.ts'
import { postgresContext } from './postgres-context.ts'
import { postgresDeliveries } from './postgres-deliveries.ts'
import { migratePostgres } from './postgres-migrate.ts'
import { postgresOutbox } from './postgres-outbox.ts'
import { PostgresSession } from './postgres-session.ts'
import { poolTypes, postgresDb, quoteIdent, withClient } from './postgres-sql.ts'
import { postgresSubscriptions } from './postgres-subscriptions.ts'

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:5432/db`; `?options=-c search_path=…` picks the app's schema. */
  readonly url: string
  /** The schema of Hookline's own tables. Default `hookline`. */
  readonly schema?: string
  /** Connections in the pool. Default 10. */
  readonly poolSize?: number
  /** Told when the database goes away and comes back. */
  readonly logger?: Logger
}

/**
 * The production store: a connection pool on the application's PostgreSQL database (or a
 * dedicated one), Hookline's tables in their own schema. Any number of Hookline processes
 * may share one database: deliveries are claimed in batches with `FOR UPDATE SKIP LOCKED`
 * and a lease, one process at a time consumes the change log (an advisory lock), and
 * `NOTIFY` from Hookline's own transactions wakes the others.
 *
 * @example
 * const store = await openPostgresStore({ url: 'postgres://app@db:5432/crm', poolSize: 20 })
 */
export async function openPostgresStore(
  options: PostgresStoreOptions,
): Promise<Store & { readonly schema: string }> {
  const schema = options.schema ?? 'hookline'
  if (!/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/.test(schema))
    throw new ConfigError(
      `PostgreSQL schema name '${schema}' is not a plain identifier: use letters, digits and underscores`,
    )
  const description = redactUrl(options.url)
  if (!URL.canParse(options.url))
    throw new ConfigError(
      `database URL '${description}' is not a valid URL: use postgres://user:password@host:5432/dbname, with special characters of the password percent-encoded`,
    )
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    types: poolTypes,
  })
  // A connection that dies (a server restart) must not crash the process: pg emits
  // `error` on its client, and an `error` event nobody listens to ends the process. The
  // pool listens only while a client is idle, so every client gets a listener of its own;
  // the failing query of a busy one is retried by its caller's loop, and the pool
  // replaces the connection.
  pool.on('error', () => {})
  pool.on('connect', (client) => client.on('error', () => {}))
  try {
    await pool.query('SELECT 1')
  } catch (error) {
    await pool.end().catch(() => {})
    throw new HooklineError(
      'database_unreachable',
      `cannot connect to PostgreSQL at ${description}: ${(error as Error).message || String(error)}. Check that the server runs and that the URL (host, port, user, database) is right`,
      { cause: error },
    )
  }

  const c = postgresContext(pool, schema)
  const session = new PostgresSession({
    connectionString: options.url,
    lockKey: `hookline:change-consumer:${schema}`,
    channel: c.channel,
    peersKey: `hookline:deliverers:${schema}`,
    ignorePayload: c.instance,
    description,
    ...(options.logger ? { logger: options.logger } : {}),
  })
  let closed = false

  return {
    schema,
    capabilities: { multiProcess: true, dialect: 'postgres' },
    description,

    async migrate() {
      await migratePostgres(pool, schema)
    },
    async exec(sql) {
      // SQL with its own BEGIN may leave the connection in a failed transaction: on an
      // error, withClient rolls back.
      await withClient(pool, (client) => client.query(sql))
    },
    async close() {
      if (closed) return
      closed = true
      await session.close()
      await c.growth.settled()
      await c.consumed.settled()
      await pool.end()
    },

    async tableExists(table) {
      const { rows } = await pool.query<{ found: boolean }>(
        `SELECT ${tableRegclass} IS NOT NULL AS found`,
        [table],
      )
      return rows[0]?.found === true
    },
    async installCapture(tables, o) {
      await installPostgresCapture(pool, schema, tables, {
        notify: o?.notify === true,
        channel: c.channel,
      })
    },
    async recentRowIds(table, limit, where) {
      const pk = await primaryKeyColumn(pool, table)
      if (pk === null)
        throw new ConfigError(
          `table '${table}' has no single-column primary key: Hookline cannot pick its recent rows; add one`,
        )
      const col = quoteIdent(pk)
      const { rows } = await pool.query<{ id: RowId }>(
        `SELECT ${col} AS id FROM ${quoteIdent(table)} WHERE ${where ?? 'TRUE'} ORDER BY ${col} DESC LIMIT $1`,
        [limit],
      )
      return rows.map((r) => r.id)
    },
    db: postgresDb(pool),

    ...postgresOutbox(c),
    ...postgresSubscriptions(c),
    ...postgresClaims(c),
    ...postgresDeliveries(c),

    acquireChangeConsumerLock: () => session.tryLock(),
    onNotify: (listener) => session.onNotify(listener),
    alone: () => session.alone(),

    async getMeta(key) {
      const { rows } = await pool.query<{ value: string }>(
        `SELECT value FROM ${c.t.meta} WHERE key = $1`,
        [key],
      )
      return rows[0]?.value ?? null
    },
    async setMeta(key, value) {
      await pool.query(
        `INSERT INTO ${c.t.meta} (key, value) VALUES ($1, $2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
        [key, value],
      )
    },
  }
}
