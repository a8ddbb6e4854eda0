// The WAL checkpointer's thread: copies committed pages from the -wal file back into the
// database file, off the thread that captures and delivers. PASSIVE: it never waits for,
// nor blocks, readers and writers; what it cannot copy now it copies next time.
import { parentPort, workerData } from 'node:worker_threads'
import Database from 'better-sqlite3'

const db = new Database(workerData.filename)
db.pragma('busy_timeout = 1000')
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)')
  } catch {
    // Busy or briefly away: the next tick tries again.
  }
}, workerData.intervalMs)
parentPort.on('message', () => {
  clearInterval(timer)
  db.close()
  parentPort.close()
})
