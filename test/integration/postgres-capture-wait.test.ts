import { execFileSync } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import type { Hookline } from '../../src/hookline.ts'
import {
  createTestSchemas,
  itemHookline,
  type TestSchemas,
  withAdmin,
} from '../helpers/postgres.ts'

let schemas: TestSchemas | undefined
let hookline: Hookline | undefined
afterEach(async () => {
  await hookline?.stop()
  await schemas?.drop()
})

describe('capture on PostgreSQL', () => {
  it('waits for changes in the database rather than polling it, and takes what psql commits', async () => {
    schemas = await createTestSchemas()
    await withAdmin((c) =>
      c.query(`CREATE TABLE ${schemas!.appSchema}.item (id serial PRIMARY KEY)`),
    )
    hookline = await itemHookline(schemas, {})
    // Count the consumer's reads of the change log, by kind.
    const { store } = hookline
    const reads = { polled: 0, waited: 0 }
    const readChanges = store.readChanges.bind(store)
    const waitForChanges = store.waitForChanges!.bind(store)
    store.readChanges = (limit) => {
      reads.polled++
      return readChanges(limit)
    }
    store.waitForChanges = (limit, wait) => {
      reads.waited++
      return waitForChanges(limit, wait)
    }
    await hookline.start()
    // A quiet second: the reads wait in the database, up to 25 ms each (the default
    // pollIntervalMs), instead of a poll every few milliseconds.
    await new Promise((resolve) => setTimeout(resolve, 1000))
    expect(reads.waited).toBeGreaterThan(0)
    expect(reads.polled).toBeLessThanOrEqual(2)
    expect(reads.waited + reads.polled).toBeLessThan(100)
    execFileSync('psql', [schemas.url, '-q', '-c', 'INSERT INTO item DEFAULT VALUES'])
    await expect.poll(() => hookline!.store.countMessages('ItemAdded'), { timeout: 5000 }).toBe(1)
  })
})
