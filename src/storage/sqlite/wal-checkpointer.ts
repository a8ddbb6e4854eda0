import { Worker } from 'node:worker_threads'
import type Database from 'better-sqlite3'

/** How often the thread checkpoints. */
const CHECKPOINT_INTERVAL_MS = 100
/** SQLite's own threshold, restored if the thread is gone. */
const AUTOCHECKPOINT_PAGES = 1000

/**
 * Moves WAL checkpoints off the store's connection. SQLite checkpoints on whichever
 * connection commits past 1,000 WAL pages; on Hookline's, that copy and its fsync stall
 * capture and delivery for milliseconds, several times a second under load. A thread with
 * its own connection checkpoints every 100 ms instead, and the store's connection stops
 * checkpointing. If the thread dies, the connection checkpoints again as SQLite would.
 * Returns a stopper.
 */
export function startWalCheckpointer(db: Database.Database, filename: string): () => Promise<void> {
  const worker = new Worker(new URL('./checkpoint-worker.mjs', import.meta.url), {
    workerData: { filename, intervalMs: CHECKPOINT_INTERVAL_MS },
    resourceLimits: { maxYoungGenerationSizeMb: 2 },
  })
  // The thread keeps no process alive (a CLI command ends when its work does).
  worker.unref()
  db.pragma('wal_autocheckpoint = 0')
  let stopped = false
  const restore = () => {
    if (!stopped && db.open) db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`)
  }
  worker.on('error', restore)
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      restore()
      resolve()
    }),
  )
  return async () => {
    if (!stopped) {
      // Held while it stops, or the process could end with the store's close() pending.
      worker.ref()
      worker.postMessage('stop')
    }
    stopped = true
    await exited
  }
}
