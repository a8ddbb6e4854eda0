import pg from 'pg'
import { asError, HooklineError } from '../../errors.ts'
import type { Db } from '../types.ts'

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/**
 * Payload builders write `?` placeholders so that one query runs on both stores; PostgreSQL
 * wants `$1…$n`. Question marks inside quotes, identifiers and comments are left alone, and
 * SQL that already uses `$n` is passed through (it may use the jsonb `?` operators).
 *
 * @example toPositional('select * from deal where id = ? and stage = ?')
 * // 'select * from deal where id = $1 and stage = $2'
 */
export function toPositional(sql: string): string {
  if (/\$\d/.test(sql)) return sql
  let out = ''
  let n = 0
  let i = 0
  while (i < sql.length) {
    const ch = sql[i]!
    const end = skipQuoted(sql, i)
    if (end > i) {
      out += sql.slice(i, end)
      i = end
    } else {
      out += ch === '?' ? `$${++n}` : ch
      i++
    }
  }
  return out
}

/** The index after a quoted string, identifier or comment starting at `i`, else `i`. */
function skipQuoted(sql: string, i: number): number {
  const two = sql.slice(i, i + 2)
  if (two === '--') {
    const nl = sql.indexOf('\n', i)
    return nl === -1 ? sql.length : nl
  }
  if (two === '/*') {
    const close = sql.indexOf('*/', i + 2)
    return close === -1 ? sql.length : close + 2
  }
  const ch = sql[i]
  if (ch !== "'" && ch !== '"') return i
  let j = i + 1
  while (j < sql.length) {
    if (sql[j] === ch) {
      if (sql[j + 1] === ch) j += 2
      else return j + 1
    } else j++
  }
  return sql.length
}

/** bigint as a number when it fits (ids, counts, unix ms), else as a string. */
function parseInt8(value: string): number | string {
  const n = Number(value)
  return Number.isSafeInteger(n) ? n : value
}

/** Type parsers of Hookline's pool only; the `pg` module's global parsers stay untouched. */
export const poolTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 && format !== 'binary'
      ? parseInt8
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
}

export type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>

/**
 * Runs `fn` with one pooled connection, for several statements in a row; rolls back what
 * it left open when it fails. A connection that cannot roll back (the server ended it)
 * is discarded rather than given back to the pool.
 */
export async function withClient<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect()
  let broken: Error | undefined
  try {
    return await fn(client)
  } catch (error) {
    // A connection left in a failed transaction is not given back to the pool.
    try {
      await client.query('ROLLBACK')
    } catch (rollbackError) {
      broken = asError(rollbackError)
    }
    throw error
  } finally {
    client.release(broken)
  }
}

/** Runs `fn` in one transaction on one pooled connection. */
export function withTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  return withClient(pool, async (client) => {
    await client.query('BEGIN')
    const result = await fn(client)
    await client.query('COMMIT')
    return result
  })
}

/** The query helper payload builders get: `?` placeholders, rows as objects. */
export function postgresDb(pool: pg.Pool): Db {
  const all = async (sql: string, params: readonly unknown[] = []) =>
    (await pool.query(toPositional(sql), params as unknown[])).rows
  return {
    async one(sql, params) {
      const row = (await all(sql, params))[0]
      if (row === undefined)
        throw new HooklineError('row_not_found', `query returned no row: ${sql}`)
      return row
    },
    async maybeOne(sql, params) {
      return (await all(sql, params))[0] ?? null
    },
    all,
  }
}
