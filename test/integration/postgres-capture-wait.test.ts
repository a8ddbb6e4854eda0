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

  it('sleeps between partial reads while thousands of changes a second come', async () => {
    schemas = await createTestSchemas()
    await withAdmin((c) =>
      c.query(`CREATE TABLE ${schemas!.appSchema}.item (id serial PRIMARY KEY)`),
    )
    hookline = await itemHookline(schemas, {})
    await withAdmin((c) =>
      c.query(`INSERT INTO ${schemas!.appSchema}.item SELECT FROM generate_series(1, 6000)`),
    )
    // Reads of at most 100 changes, so each step finds fewer than the 500 it asks for, as
    // when changes come fast but not in whole batches: the consumer sees thousands a second.
    const { store } = hookline
    const waitForChanges = store.waitForChanges!.bind(store)
    const readChanges = store.readChanges.bind(store)
    const readsAt: number[] = []
    store.waitForChanges = (limit, wait) => {
      readsAt.push(performance.now())
      return waitForChanges(Math.min(limit, 100), wait)
    }
    store.readChanges = (limit) => {
      readsAt.push(performance.now())
      return readChanges(Math.min(limit, 100))
    }
    const stepsEndedAt: number[] = []
    hookline.on('change:processed', () => stepsEndedAt.push(performance.now()))
    await hookline.start()
    await expect
      .poll(() => hookline!.store.countMessages('ItemAdded'), { timeout: 30_000 })
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
