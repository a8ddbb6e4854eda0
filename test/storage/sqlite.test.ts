import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { installSqliteCapture } from '../../src/storage/sqlite/sqlite-capture.ts'
import { loadMigrations } from '../../src/storage/sqlite/sqlite-migrate.ts'
import { openSqliteStore } from '../../src/storage/sqlite/sqlite-store.ts'
import { tempDbPath, tempDir } from '../helpers/temp.ts'
import { storeContract } from './store.contract.ts'

const dir = tempDir()
const MIGRATIONS = new URL('../../src/storage/sqlite/migrations/', import.meta.url)

storeContract('SQLite', async () => {
  const store = openSqliteStore({ filename: tempDbPath(dir) })
  return {
    store,
    hooklineTable: (name) => `hookline_${name}`,
    dispose: () => store.close(),
  }
})

describe('SQLite schema upgrades', () => {
  it('rebuilds the change log without AUTOINCREMENT, keeping pending changes and the capture triggers working', async () => {
    const file = tempDbPath(dir)
    // A database as Hookline left it at schema version 5, with a tracked table and changes.
    const db = new Database(file)
    db.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)')
    db.exec(
      'CREATE TABLE hookline_schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
    )
    for (const m of loadMigrations(MIGRATIONS).filter((m) => m.version <= 5)) {
      db.exec(m.sql)
      db.prepare('INSERT INTO hookline_schema_migrations VALUES (?, ?, 0)').run(m.version, m.name)
    }
    installSqliteCapture(db, ['items'])
    db.exec("INSERT INTO items (name) VALUES ('a'), ('b')")
    db.close()

    const store = openSqliteStore({ filename: file })
    await store.migrate()
    await store.installCapture(['items'])
    const app = new Database(file)
    app.exec("INSERT INTO items (name) VALUES ('c')")
    expect((await store.readChanges(10)).map((c) => [c.id, c.rowId])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ])
    expect(
      app.prepare("SELECT sql FROM sqlite_schema WHERE name = 'hookline_changes'").pluck().get(),
    ).not.toMatch(/AUTOINCREMENT/)
    app.close()
    await store.close()
  })
})
