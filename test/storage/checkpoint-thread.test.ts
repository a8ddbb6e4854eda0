import { statSync } from 'node:fs'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { CheckpointThread } from '../../src/storage/sqlite/checkpoint-thread.ts'
import { tempDbPath, tempDir } from '../helpers/temp.ts'

const dir = tempDir()

/** A WAL-mode file holding ~2 MB in its WAL alone: its own connection never checkpoints. */
function fileWithUncheckpointedWal(): { filename: string; db: Database.Database } {
  const filename = tempDbPath(dir)
  const db = new Database(filename)
  db.pragma('journal_mode = WAL')
  db.pragma('wal_autocheckpoint = 0')
  db.exec('CREATE TABLE filler (id INTEGER PRIMARY KEY, data TEXT NOT NULL)')
  const insert = db.prepare('INSERT INTO filler (data) VALUES (?)')
  for (let i = 0; i < 20; i++) insert.run('x'.repeat(100_000))
  return { filename, db }
}

describe('the checkpoint thread', () => {
  it('copies the WAL into the file from its own thread, and ends when stopped', async () => {
    const { filename, db } = fileWithUncheckpointedWal()
    expect(statSync(filename).size).toBeLessThan(100_000)
    const failures: Error[] = []
    const checkpoints = await CheckpointThread.start(filename, 20, (e) => failures.push(e))
    const deadline = Date.now() + 10_000
    while (statSync(filename).size < 2_000_000 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20))
    expect(statSync(filename).size).toBeGreaterThan(2_000_000)
    const exited = new Promise<number>((resolve) => checkpoints.thread.once('exit', resolve))
    await checkpoints.stop()
    expect(await exited).toBe(0)
    // Stopping twice, or after the thread ended, returns at once.
    await checkpoints.stop()
    expect(failures).toEqual([])
    db.close()
  })

  it('says why it cannot start', async () => {
    await expect(CheckpointThread.start('/nonexistent/hookline.db', 100, () => {})).rejects.toThrow(
      /nonexistent|directory|unable to open/i,
    )
  })
})
