import { type FSWatcher, watch } from 'node:fs'

/**
 * Calls `onChange` when another process writes the SQLite database: every commit in WAL
 * mode appends to the `-wal` file, which inotify reports at once. Returns a closer. The
 * caller keeps a fallback poll, since file events can be missed or unsupported.
 */
export function watchSqliteWal(filename: string, onChange: () => void): () => void {
  let watcher: FSWatcher | null = null
  try {
    watcher = watch(`${filename}-wal`, { persistent: false }, onChange)
    watcher.on('error', () => watcher?.close())
  } catch {
    // No -wal file yet or no inotify: the poll alone wakes the consumer.
  }
  return () => watcher?.close()
}
