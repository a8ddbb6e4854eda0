import { readdirSync, readFileSync } from 'node:fs'
import type BetterSqlite3 from 'better-sqlite3'
import { HooklineError } from '../../errors.ts'

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url)

interface Migration {
  version: number
  name: string
  sql: string
}

/** Numbered SQL files (`001_init.sql`), applied in order, each in its own transaction. */
export function loadMigrations(dir: URL): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d+_.+\.sql$/.test(f))
    .sort()
    .map((file) => ({
      version: Number.parseInt(file, 10),
      name: file,
      sql: readFileSync(new URL(file, dir), 'utf8'),
    }))
}

export function migrateSqlite(db: BetterSqlite3.Database): void {
  const migrations = loadMigrations(MIGRATIONS_DIR)
  const latest = migrations.at(-1)?.version ?? 0
  db.exec(`CREATE TABLE IF NOT EXISTS hookline_schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`)
  db.transaction(() => {
    const current =
      (db.prepare('SELECT max(version) FROM hookline_schema_migrations').pluck().get() as
        | number
        | null) ?? 0
    if (current > latest) {
      throw new HooklineError(
        'schema_too_new',
        `the database's Hookline schema is at version ${current}, newer than this Hookline knows (${latest}): upgrade Hookline before running it against this database`,
      )
    }
    for (const m of migrations) {
      if (m.version <= current) continue
      db.exec(m.sql)
      db.prepare(
        'INSERT INTO hookline_schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
      ).run(m.version, m.name, Date.now())
    }
  }).immediate()
}
