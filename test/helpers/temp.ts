import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'

/** A fresh directory for this test file, removed afterwards. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hookline-test-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

let n = 0
/** A new SQLite file path in a fresh directory. */
export function tempDbPath(dir: string): string {
  n++
  return join(dir, `db-${process.pid}-${n}.db`)
}
