import { execFileSync } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import type { Hookline } from '../../src/hookline.ts'
import type { Store } from '../../src/storage/store.ts'
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

/** A Hookline capturing an `item` table on fresh schemas. */
async function startItemHookline(): Promise<Hookline> {
  schemas = await createTestSchemas()
  await withAdmin((c) => c.query(`CREATE TABLE ${schemas!.appSchema}.item (id serial PRIMARY KEY)`))
  hookline = await itemHookline(schemas, {})
  return hookline
}

/**
 * Calls `onRead` at each of the consumer's reads of the change log, by kind; each read
 * takes at most `cap` changes.
 */
function watchReads(
  store: Store,
  onRead: (kind: 'polled' | 'waited') => void,
  cap = Number.POSITIVE_INFINITY,
): void {
  const readChanges = store.readChanges.bind(store)
  const waitForChanges = store.waitForChanges!.bind(store)
  store.readChanges = (limit) => {
    onRead('polled')
    return readChanges(Math.min(limit, cap))
  }
  store.waitForChanges = (limit, wait) => {
    onRead('waited')
    return waitForChanges(Math.min(limit, cap), wait)
  }
}

describe('capture on PostgreSQL', () => {
  it('waits for changes in the database rather than polling it, and takes what psql commits', async () => {
    const hookline = await startItemHookline()
    // Count the consumer's reads of the change log, by kind.
    const reads = { polled: 0, waited: 0 }
    watchReads(hookline.store, (kind) => reads[kind]++)
    await hookline.start()
    // A quiet second: the reads wait in the database, up to 25 ms each (the default
    // pollIntervalMs), instead of a poll every few milliseconds.
    await new Promise((resolve) => setTimeout(resolve, 1000))
    expect(reads.waited).toBeGreaterThan(0)
    expect(reads.polled).toBeLessThanOrEqual(2)
    expect(reads.waited + reads.polled).toBeLessThan(100)
    execFileSync('psql', [schemas!.url, '-q', '-c', 'INSERT INTO item DEFAULT VALUES'])
    await expect.poll(() => hookline.store.countMessages('ItemAdded'), { timeout: 5000 }).toBe(1)
  })

  it('sleeps between partial reads while thousands of changes a second come', async () => {
    const hookline = await startItemHookline()
    await withAdmin((c) =>
      c.query(`INSERT INTO ${schemas!.appSchema}.item SELECT FROM generate_series(1, 6000)`),
    )
    // Reads of at most 100 changes, so each step finds fewer than the 500 it asks for, as
    // when changes come fast but not in whole batches: the consumer sees thousands a second.
    const readsAt: number[] = []
    watchReads(hookline.store, () => readsAt.push(performance.now()), 100)
    const stepsEndedAt: number[] = []
    hookline.on('change:processed', () => stepsEndedAt.push(performance.now()))
    await hookline.start()
    await expect
      .poll(() => hookline.store.countMessages('ItemAdded'), { timeout: 30_000 })
      .toBe(6000)
    // The time from a step's end to the next read, once the smoothed rate has risen: a
    // sleep of up to 10 ms (the time the rate takes to fill a batch), not the next turn of
    // the event loop.
    const pauses = stepsEndedAt
      .map((ended) => (readsAt.find((at) => at > ended) ?? Number.NaN) - ended)
      .filter((pause) => !Number.isNaN(pause))
      .slice(10)
    expect(pauses.length).toBeGreaterThan(20)
    const sorted = pauses.sort((a, b) => a - b)
    expect(sorted[Math.floor(sorted.length / 2)]).toBeGreaterThanOrEqual(5)
  })
})
