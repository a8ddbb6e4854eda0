import Database from 'better-sqlite3'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { defineEvent } from '../../src/events/define-event.ts'
import { createHookline, type Hookline } from '../../src/hookline.ts'
import type { RowId } from '../../src/storage/types.ts'
import { defineTracking } from '../../src/tracking/define-tracking.ts'
import { tempDbPath, tempDir } from '../helpers/temp.ts'

const dir = tempDir()
let hookline: Hookline | undefined
afterEach(() => hookline?.stop())

interface Calls {
  many: RowId[][]
  one: RowId[]
}

/**
 * Items whose event builds in batches. `manyFails` makes `buildMany` throw; `badName`
 * makes `build` throw for that item (a row the code did not expect).
 */
async function project(o: { manyFails?: boolean; manyShort?: boolean; badName?: string } = {}) {
  const file = tempDbPath(dir)
  const logs: { msg: string; event?: string; err?: { message: string } }[] = []
  const logger = pino({ level: 'warn' }, { write: (line: string) => logs.push(JSON.parse(line)) })
  new Database(file).exec('CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT NOT NULL)')
  const calls: Calls = { many: [], one: [] }
  hookline = await createHookline({
    database: `sqlite:${file}`,
    logger,
    events: {
      ItemAdded: defineEvent({
        description: 'An item was added',
        table: 'item',
        async build({ rowId, db }) {
          calls.one.push(rowId)
          const item = await db.one('SELECT id, name FROM item WHERE id = ?', [rowId])
          if (item.name === o.badName) throw new Error(`cannot build '${item.name}'`)
          return { id: item.id, name: item.name, by: 'build' }
        },
        async buildMany({ rowIds, db, changes }) {
          calls.many.push([...rowIds])
          if (o.manyFails) throw new Error('buildMany failed')
          expect(changes).toHaveLength(rowIds.length)
          const rows = await db.all(
            `SELECT id, name FROM item WHERE id IN (${rowIds.map(() => '?').join(', ')})`,
            rowIds,
          )
          const byId = new Map(rows.map((r) => [r.id, r]))
          const data = rowIds.map((id) => ({ id, name: byId.get(id)?.name, by: 'buildMany' }))
          return o.manyShort ? data.slice(1) : data
        },
      }),
    },
    tracking: {
      item: defineTracking({ onChange: (c, { trigger }) => trigger('ItemAdded', c.rowId) }),
    },
  })
  const write = new Database(file)
  write.exec("INSERT INTO item (name) VALUES ('a'), ('b'), ('c'), ('d')")
  write.close()
  return { h: hookline, calls, logs }
}

async function messageData(h: Hookline) {
  const rows = await h.store.db.all('SELECT body FROM hookline_messages ORDER BY row_id')
  return rows.map((r) => JSON.parse(r.body as string).data)
}

describe('an event with buildMany', () => {
  it('builds a batch of changes with one call, in order', async () => {
    const { h, calls } = await project()
    await h.drain()
    expect(calls.many).toEqual([[1, 2, 3, 4]])
    expect(calls.one).toEqual([])
    expect(await messageData(h)).toEqual([
      { id: 1, name: 'a', by: 'buildMany' },
      { id: 2, name: 'b', by: 'buildMany' },
      { id: 3, name: 'c', by: 'buildMany' },
      { id: 4, name: 'd', by: 'buildMany' },
    ])
  })

  it('falls back to build row by row when buildMany throws, setting aside only the row at fault', async () => {
    const { h, calls } = await project({ manyFails: true, badName: 'c' })
    await h.drain()
    expect(calls.many).toHaveLength(1)
    expect(calls.one.sort()).toEqual([1, 2, 3, 4])
    expect((await messageData(h)).map((d) => d.name)).toEqual(['a', 'b', 'd'])
    const [failed] = await h.failedChanges()
    expect(failed).toMatchObject({ rowId: 3, error: "cannot build 'c'" })
  })

  it('falls back to build when buildMany answers with the wrong number of entries, and logs why', async () => {
    const { h, logs } = await project({ manyShort: true })
    await h.drain()
    expect((await messageData(h)).map((d) => d.by)).toEqual(['build', 'build', 'build', 'build'])
    expect(logs).toContainEqual(
      expect.objectContaining({
        msg: 'event:build-many-failed',
        event: 'ItemAdded',
        err: expect.objectContaining({
          message: expect.stringMatching(/returned 3 entries for 4 row ids/),
        }),
      }),
    )
  })

  it('serves perform-list with one call, newest first', async () => {
    const { h, calls } = await project()
    const samples = await h.performList('ItemAdded', 3)
    expect(calls.many).toEqual([[4, 3, 2]])
    expect(samples.map((s) => s.data)).toEqual([
      { id: 4, name: 'd', by: 'buildMany' },
      { id: 3, name: 'c', by: 'buildMany' },
      { id: 2, name: 'b', by: 'buildMany' },
    ])
  })

  it('uses build alone for a single row (trigger from app code)', async () => {
    const { h, calls } = await project()
    await h.trigger('ItemAdded', 2)
    expect(calls.many).toEqual([])
    expect(calls.one).toEqual([2])
  })
})

describe('an event whose buildMany is not a function', () => {
  it('is refused at start-up, saying what buildMany must be', async () => {
    const event = { description: 'x', build: () => ({}), buildMany: 'rows' } as never
    await expect(
      createHookline({ database: `sqlite:${tempDbPath(dir)}`, events: { ItemAdded: event } }),
    ).rejects.toThrow(/buildMany must be a function/)
  })
})
