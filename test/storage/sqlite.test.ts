import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { changeMessageId } from '../../src/events/envelope.ts'
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

describe('SQLite message id seeds', () => {
  it('moves to a new seed when the outbox step consumes the highest change, whose id the next change takes again', async () => {
    const file = tempDbPath(dir)
    const store = openSqliteStore({ filename: file })
    await store.migrate()
    const app = new Database(file)
    app.exec('CREATE TABLE items (id INTEGER PRIMARY KEY)')
    await store.installCapture(['items'])
    try {
      const seed = await store.changeMessageSeed!()
      expect(await store.changeMessageSeed!()).toBe(seed)
      app.exec('INSERT INTO items DEFAULT VALUES; INSERT INTO items DEFAULT VALUES')
      const [first, second] = await store.readChanges(10)

      // Consuming a change below the highest keeps the seed: ids above stay taken.
      await store.commitChanges([first!.id], [])
      expect(await store.changeMessageSeed!()).toBe(seed)

      // Consuming the highest empties the log: the next change takes an id consumed before,
      // under a new seed, so that its messages' ids differ even within one millisecond.
      await store.commitChanges([second!.id], [])
      app.exec('INSERT INTO items DEFAULT VALUES')
      const [again] = await store.readChanges(10)
      expect(again!.id).toBe(first!.id)
      const next = await store.changeMessageSeed!()
      expect(next).not.toBe(seed)
      const sameTime = { ...again!, createdAt: first!.createdAt }
      expect(changeMessageId(next, sameTime, 0, 'ItemAdded')).not.toBe(
        changeMessageId(seed, first!, 0, 'ItemAdded'),
      )
      // The seed lives in the database: another connection to it reads the same.
      const other = openSqliteStore({ filename: file })
      expect(await other.changeMessageSeed!()).toBe(next)
      await other.close()
    } finally {
      app.close()
      await store.close()
    }
  })
})
