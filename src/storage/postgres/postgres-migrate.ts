import type pg from 'pg'
import { HooklineError } from '../../errors.ts'
import { loadMigrations } from '../sqlite/sqlite-migrate.ts'
import { quoteIdent, withTransaction } from './postgres-sql.ts'

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url)

/** Serialises Hookline's DDL on one schema across processes (migrate, installCapture). */
export const ddlLockSql = 'SELECT pg_advisory_xact_lock(hashtextextended($1, 0))'
export const ddlLockKey = (schema: string) => `hookline:ddl:${schema}`

/**
 * Applies the numbered SQL files of `migrations/` in one transaction, under an advisory
 * lock so that processes starting together do not race. Refuses a schema newer than this
 * Hookline knows.
 */
export async function migratePostgres(pool: pg.Pool, schema: string): Promise<void> {
  const migrations = loadMigrations(MIGRATIONS_DIR)
  const latest = migrations.at(-1)?.version ?? 0
  const s = quoteIdent(schema)
  await withTransaction(pool, async (client) => {
    await client.query(ddlLockSql, [ddlLockKey(schema)])
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`)
    await client.query(`SET LOCAL search_path TO ${s}`)
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`)
    const { rows } = await client.query<{ current: number | null }>(
      'SELECT max(version) AS current FROM schema_migrations',
    )
    const current = rows[0]?.current ?? 0
    if (current > latest) {
      throw new HooklineError(
        'schema_too_new',
        `the database's Hookline schema ${s} is at version ${current}, newer than this Hookline knows (${latest}): upgrade Hookline before running it against this database`,
      )
    }
    for (const m of migrations) {
      if (m.version <= current) continue
      await client.query(m.sql.replaceAll('{{schema}}', s))
      await client.query(
        'INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)',
        [m.version, m.name, Date.now()],
      )
    }
  })
}
