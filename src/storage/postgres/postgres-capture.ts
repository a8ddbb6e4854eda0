import type pg from 'pg'
import { ConfigError } from '../../errors.ts'
import { ddlLockKey, ddlLockSql } from './postgres-migrate.ts'
import { quoteIdent, withTransaction } from './postgres-sql.ts'

/** The trigger's name on every tracked table; the schema keeps two Hooklines apart. */
export const captureTriggerName = (schema: string) => `hookline_capture_${schema}`.slice(0, 63)

/** A table of the application, found through the connection's search_path. */
export const tableRegclass = 'to_regclass(quote_ident($1))'

/** The single-column primary key of a table (the row id of its changes), else null. */
export async function primaryKeyColumn(db: pg.ClientBase | pg.Pool, table: string) {
  const { rows } = await db.query<{ name: string }>(
    `SELECT a.attname AS name
     FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
     WHERE i.indrelid = ${tableRegclass} AND i.indisprimary`,
    [table],
  )
  return rows.length === 1 ? rows[0]!.name : null
}

/** The optional statement trigger that wakes Hookline (`capture.notify`). */
export const notifyTriggerName = (schema: string) => `hookline_notify_${schema}`.slice(0, 63)

interface WantedTrigger {
  readonly table: string
  /** The trigger function's one argument. */
  readonly arg: string
}

/**
 * Makes the capture triggers match the tracked tables, in one transaction: one
 * `AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW` trigger per table, calling the schema's
 * `capture_change(<primary key>)`, and none on tables no longer tracked. The function
 * copies whole rows with `to_jsonb`, so added columns need no refresh; a changed primary
 * key does, and gets one here. With `notify`, each table also gets a statement trigger
 * calling `capture_notify(<channel>)`; without, any is removed. Unchanged triggers are left
 * alone.
 */
export async function installPostgresCapture(
  pool: pg.Pool,
  schema: string,
  tables: readonly string[],
  options: { readonly notify: boolean; readonly channel: string },
): Promise<void> {
  await withTransaction(pool, async (client) => {
    await client.query(ddlLockSql, [ddlLockKey(schema)])
    const rows = new Map<number, WantedTrigger>()
    for (const table of tables) {
      const { rows: found } = await client.query<{ oid: number | null }>(
        `SELECT ${tableRegclass}::oid AS oid`,
        [table],
      )
      const oid = found[0]?.oid
      if (oid == null)
        throw new ConfigError(
          `table '${table}' is not on the database connection's search_path: create it, add its schema to the search_path, or stop tracking it`,
        )
      const pk = await primaryKeyColumn(client, table)
      if (pk === null)
        throw new ConfigError(
          `table '${table}' has no single-column primary key: Hookline identifies a changed row by one column; add a primary key (e.g. id bigint generated always as identity) or track another table`,
        )
      rows.set(Number(oid), { table, arg: pk })
    }
    const s = quoteIdent(schema)
    await syncTriggers(client, captureTriggerName(schema), `${s}.capture_change`, 'ROW', rows)
    const notifying = new Map(
      options.notify
        ? [...rows].map(([oid, { table }]) => [oid, { table, arg: options.channel }])
        : [],
    )
    await syncTriggers(
      client,
      notifyTriggerName(schema),
      `${s}.capture_notify`,
      'STATEMENT',
      notifying,
    )
  })
}

/** Drops the triggers of this name that are not wanted as they are, and creates the missing ones. */
async function syncTriggers(
  client: pg.ClientBase,
  name: string,
  fn: string,
  level: 'ROW' | 'STATEMENT',
  wanted: Map<number, WantedTrigger>,
): Promise<void> {
  const missing = new Map(wanted)
  const { rows: existing } = await client.query<{ oid: number; qualified: string; args: string }>(
    `SELECT t.tgrelid::oid AS oid, t.tgrelid::regclass::text AS qualified,
            encode(t.tgargs, 'escape') AS args
     FROM pg_trigger t
     WHERE t.tgname = $1 AND t.tgfoid = '${fn}()'::regprocedure AND NOT t.tgisinternal`,
    [name],
  )
  for (const t of existing) {
    // tgargs holds each argument followed by a NUL byte (`\000` once escaped).
    const want = missing.get(Number(t.oid))
    if (want && t.args === `${want.arg}\\000`) missing.delete(Number(t.oid))
    else await client.query(`DROP TRIGGER ${quoteIdent(name)} ON ${t.qualified}`)
  }
  for (const { table, arg } of missing.values()) {
    const literal = `'${arg.replaceAll("'", "''")}'`
    await client.query(
      `CREATE OR REPLACE TRIGGER ${quoteIdent(name)} AFTER INSERT OR UPDATE OR DELETE ON ${quoteIdent(table)}
       FOR EACH ${level} EXECUTE FUNCTION ${fn}(${literal})`,
    )
  }
}
