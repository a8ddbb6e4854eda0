import { statSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { createHookline } from '../../src/hookline.ts'
import { openSqliteStore } from '../../src/storage/sqlite/sqlite-store.ts'
import { SAFETY_AUTOCHECKPOINT_PAGES } from '../../src/storage/sqlite/wal-checkpoints.ts'
import { tempDbPath, tempDir } from '../helpers/temp.ts'

const dir = tempDir()
const walSize = (file: string) => statSync(`${file}-wal`).size

/** ~30 MB through Hookline's own connection in 150 commits, pausing now and then. */
async function writeThrough(hookline: { store: { exec(sql: string): Promise<void> } }) {
  const { store } = hookline
  await store.exec('CREATE TABLE filler (id INTEGER PRIMARY KEY, data TEXT NOT NULL)')
  const chunk = 'x'.repeat(200_000)
  for (let i = 0; i < 150; i++) {
    await store.exec(`INSERT INTO filler (data) VALUES ('${chunk}')`)
    if (i % 15 === 14) await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

describe('WAL checkpoints of a SQLite store', () => {
  const open = async (sendThread: boolean) => {
    const filename = tempDbPath(dir)
    const hookline = await createHookline({
      database: openSqliteStore({ filename }),
      events: {},
      tracking: {},
      delivery: { sendThread },
    })
    await hookline.start()
    return { hookline, filename }
  }

  it('are made by a thread of their own, which keeps the WAL file bounded', async () => {
    const { hookline, filename } = await open(true)
    const pages = hookline.store.db.one<{ wal_autocheckpoint: number }>('PRAGMA wal_autocheckpoint')
    expect((await pages).wal_autocheckpoint).toBe(SAFETY_AUTOCHECKPOINT_PAGES)
    await writeThrough(hookline)
    expect(walSize(filename)).toBeLessThan(20_000_000)
    await hookline.stop()
  })

  it('without that thread, stay on the store’s connection at SQLite’s threshold', async () => {
    const { hookline, filename } = await open(false)
    const pages = hookline.store.db.one<{ wal_autocheckpoint: number }>('PRAGMA wal_autocheckpoint')
    expect((await pages).wal_autocheckpoint).toBe(1000)
    // The same writes with the store's threshold raised and no thread: the WAL holds them
    // all, so the bound above is the thread's doing.
    ;(hookline.store as ReturnType<typeof openSqliteStore>).walAutoCheckpoint(
      SAFETY_AUTOCHECKPOINT_PAGES,
    )
    await writeThrough(hookline)
    expect(walSize(filename)).toBeGreaterThan(25_000_000)
    await hookline.stop()
  })
})
