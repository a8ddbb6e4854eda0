import Database from 'better-sqlite3'

/** How often `checkpointWal` checkpoints. */
export const CHECKPOINT_INTERVAL_MS = 100

/**
 * How many WAL pages the store's own connection lets build up before it checkpoints,
 * when another thread checkpoints every few ms (`checkpointWal`): SQLite's 1,000 would put
 * those copies back on it under load; this is a bound for when that thread is gone.
 */
export const SAFETY_AUTOCHECKPOINT_PAGES = 10_000

/**
 * Copies committed pages from a SQLite file's WAL back into the file every `intervalMs`,
 * with a connection of its own, from the thread that calls it. SQLite otherwise
 * checkpoints on whichever connection commits past 1,000 WAL pages, often the one that
 * captures and delivers, and each is a copy and an fsync that stalls it. PASSIVE: it never
 * waits for, nor blocks, readers and writers; what it cannot copy now it copies next time.
 * Returns a stopper.
 */
export function checkpointWal(filename: string, intervalMs: number): () => void {
  const db = new Database(filename, { fileMustExist: true })
  // It reads WAL frames and writes the file: a page cache would only hold memory.
  db.pragma('cache_size = 16')
  const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)')
  const timer = setInterval(() => {
    try {
      checkpoint.run()
    } catch {
      // Busy, or the file briefly away: the next tick tries again.
    }
  }, intervalMs)
  return () => {
    clearInterval(timer)
    if (db.open) db.close()
  }
}
