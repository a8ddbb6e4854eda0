import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { defineEvent } from '../../src/events/define-event.ts'
import { createHookline, type Hookline } from '../../src/hookline.ts'
import { defineTracking } from '../../src/tracking/define-tracking.ts'
import { tempDbPath, tempDir } from '../helpers/temp.ts'

const dir = tempDir()
let hookline: Hookline | undefined
afterEach(() => hookline?.stop())

/** A project whose payload builder fails as told, once per call. */
async function project(failures: unknown[]) {
  const file = tempDbPath(dir)
  new Database(file).exec('CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT)')
  hookline = await createHookline({
    database: `sqlite:${file}`,
    events: {
      ItemAdded: defineEvent({
        description: 'An item was added',
        build: ({ rowId }) => {
          const failure = failures.shift()
          if (failure) throw failure
          return { id: rowId }
        },
      }),
    },
    tracking: {
      item: defineTracking({ onChange: (c, { trigger }) => trigger('ItemAdded', c.rowId) }),
    },
  })
  new Database(file).exec("INSERT INTO item (name) VALUES ('a')")
  return hookline
}

describe('a failing change', () => {
  it('is retried, not set aside, when the database was briefly unavailable', async () => {
    const h = await project([
      Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' }),
    ])
    await expect(h.drain()).rejects.toThrow(/database is locked/)
    expect(await h.store.countPendingChanges()).toBe(1)
    await h.drain()
    expect(await h.store.countMessages('ItemAdded')).toBe(1)
  })

  it('is set aside when its own code fails, listed, and replayed once the code is fixed', async () => {
    const h = await project([new TypeError("Cannot read properties of undefined (reading 'id')")])
    await h.drain()
    expect(await h.store.countPendingChanges()).toBe(0)
    expect(await h.store.countMessages('ItemAdded')).toBe(0)
    const [failed] = await h.failedChanges()
    expect(failed).toMatchObject({
      table: 'item',
      action: 'insert',
      error: /Cannot read properties/,
    })
    // The builder works now (its list of failures is spent): replay the set-aside change.
    expect(await h.retryFailedChanges([failed!.id])).toBe(1)
    await h.drain()
    expect(await h.store.countMessages('ItemAdded')).toBe(1)
    expect(await h.failedChanges()).toEqual([])
    expect(await h.retryFailedChanges()).toBe(0)
  })
})
