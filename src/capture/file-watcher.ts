import { type FSWatcher, watch } from 'node:fs'

/**
 * Looks again this long after a WAL event (each delay after the previous look). A writer
 * appends its frames to the `-wal` file first and makes the commit visible afterwards (after
 * an fsync, with `synchronous = FULL`, the default of most clients): a look at the first
 * event can come too early and find nothing new.
 */
const SETTLE_DELAYS_MS = [5, 25, 100, 400]

/**
 * Calls `onChange` when another process writes the SQLite database: every commit in WAL
 * mode appends to the `-wal` file, which inotify reports at once. Returns a closer. The
 * caller keeps a fallback poll, since file events can be missed or unsupported.
 */
export function watchSqliteWal(filename: string, onChange: () => void): () => void {
  let watcher: FSWatcher | null = null
  let timer: NodeJS.Timeout | null = null
  let step = 0
  const settle = () => {
    timer = null
    onChange()
    const next = SETTLE_DELAYS_MS[step++]
    if (next !== undefined) timer = setTimeout(settle, next).unref()
  }
  try {
    watcher = watch(`${filename}-wal`, { persistent: false }, () => {
      onChange()
      step = 0
      if (!timer) timer = setTimeout(settle, SETTLE_DELAYS_MS[step++]).unref()
    })
    watcher.on('error', () => watcher?.close())
  } catch {
    // No -wal file yet or no inotify: the poll alone wakes the consumer.
  }
  return () => {
    watcher?.close()
    if (timer) clearTimeout(timer)
    timer = null
  }
}
