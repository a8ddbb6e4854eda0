import { statSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { openSqliteStore } from '../../src/storage/sqlite/sqlite-store.ts'
import { tempDbPath, tempDir } from '../helpers/temp.ts'

const dir = tempDir()
const walSize = (file: string) => statSync(`${file}-wal`).size

describe('WAL checkpoints', () => {
  it('are made by a thread of their own, keeping the WAL file bounded', async () => {
    const file = tempDbPath(dir)
    const store = openSqliteStore({ filename: file })
    await store.migrate()
    await store.exec('CREATE TABLE filler (id INTEGER PRIMARY KEY, data TEXT NOT NULL)')
    // ~40 MB written in 200 commits: without checkpoints the WAL would hold all of it.
    const chunk = 'x'.repeat(200_000)
    for (let i = 0; i < 200; i++) {
      await store.exec(`INSERT INTO filler (data) VALUES ('${chunk}')`)
      if (i % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 150))
    }
    expect(walSize(file)).toBeLessThan(20_000_000)
    await store.close()
  })

  it('stop with the store, which may be closed twice', async () => {
    const store = openSqliteStore({ filename: tempDbPath(dir) })
    await store.migrate()
    await store.close()
    await store.close()
  })
})
