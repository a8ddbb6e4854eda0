import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { defineEvent } from '../../src/events/define-event.ts'
import { createHookline, type Hookline } from '../../src/hookline.ts'
import { newId } from '../../src/ids.ts'
import { openPostgresStore } from '../../src/storage/postgres/postgres-store.ts'
import { defineTracking } from '../../src/tracking/define-tracking.ts'
import { createTestSchemas, type TestSchemas } from '../helpers/postgres.ts'
import { type Receiver, startReceiver } from '../helpers/receiver.ts'

const WRITERS = 6
const TRANSACTIONS_PER_WRITER = 400

/** One expected event: the row and the version the change left it at. */
const key = (id: number, action: string, version: number) => `${id}:${action}:${version}`

interface ItemChanged {
  id: number
  action: string
  version: number
}

const ItemChanged = defineEvent<ItemChanged>({
  description: 'An item was written',
  build: ({ rowId, change }) => {
    const row = (change?.after ?? change?.before) as { version: number }
    return { id: Number(rowId), action: change!.action, version: row.version }
  },
})
const item = defineTracking({
  onChange(change, { trigger }) {
    trigger('ItemChanged', change.rowId)
  },
})

/** One writer transaction of one to three statements; some roll back. */
async function transaction(
  client: pg.Client,
  w: number,
  i: number,
  expected: string[],
  ids: number[],
) {
  const seen: string[] = []
  await client.query('BEGIN')
  const statements = 1 + (i % 3)
  for (let s = 0; s < statements; s++) {
    if (ids.length < 20 || Math.random() < 0.4) {
      const { rows } = await client.query<{ id: number }>(
        'INSERT INTO item (writer) VALUES ($1) RETURNING id',
        [w],
      )
      seen.push(key(rows[0]!.id, 'insert', 0))
    } else {
      // Shared rows: writers queue on each other's row locks.
      const id = ids[Math.floor(Math.random() * ids.length)]!
      const { rows } = await client.query<{ version: number }>(
        'UPDATE item SET version = version + 1, writer = $2 WHERE id = $1 RETURNING version',
        [id, w],
      )
      if (rows[0]) seen.push(key(id, 'update', rows[0].version))
    }
  }
  if (i % 17 === 5) {
    await client.query('ROLLBACK')
    return
  }
  await client.query('COMMIT')
  expected.push(...seen)
  for (const k of seen) if (k.endsWith(':insert:0')) ids.push(Number(k.split(':')[0]))
}

/**
 * Writers commit out of id order all the time here (ids come from a sequence before
 * commit): a consumer reading `id > last_seen` would lose some of these changes.
 */
async function writer(url: string, w: number, expected: string[], ids: number[]) {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    for (let i = 0; i < TRANSACTIONS_PER_WRITER; i++) {
      // Writers update shared rows in any order, so PostgreSQL sometimes ends one of them
      // as a deadlock: like any application, the writer then runs the transaction again.
      for (;;) {
        try {
          await transaction(client, w, i, expected, ids)
          break
        } catch (error) {
          await client.query('ROLLBACK')
          if ((error as { code?: string }).code !== '40P01') throw error
        }
      }
    }
  } finally {
    await client.end()
  }
}

describe('PostgreSQL capture under concurrent writers', () => {
  let schemas: TestSchemas
  let receiver: Receiver
  const hooklines: Hookline[] = []

  beforeAll(async () => {
    schemas = await createTestSchemas()
    receiver = await startReceiver()
  })
  afterAll(async () => {
    for (const h of hooklines) await h.stop()
    await receiver?.close()
    await schemas?.drop()
  })

  const startHookline = async () => {
    const store = await openPostgresStore({ url: schemas.url, schema: schemas.hooklineSchema })
    const hookline = await createHookline({
      database: store,
      events: { ItemChanged },
      tracking: { item },
      delivery: { allowPrivateTargets: true },
      capture: { pollIntervalMs: 100 },
    })
    hooklines.push(hookline)
    await hookline.start()
    return { hookline, store }
  }

  it('turns every committed change into exactly its event, in order per row', async () => {
    const admin = await openPostgresStore({ url: schemas.url, schema: schemas.hooklineSchema })
    await admin.exec(
      'CREATE TABLE item (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, version integer NOT NULL DEFAULT 0, writer integer NOT NULL)',
    )
    await admin.migrate()
    await admin.createSubscription({
      id: newId('sub'),
      event: 'ItemChanged',
      targetUrl: receiver.url,
      secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      headers: {},
      now: Date.now(),
    })

    // Two Hookline processes: one consumes the change log, both deliver.
    const first = await startHookline()
    await expect.poll(() => first.store.acquireChangeConsumerLock!()).toBe(true)
    const second = await startHookline()
    expect(await second.store.acquireChangeConsumerLock!()).toBe(false)

    const started = Date.now()
    const expected: string[] = []
    const ids: number[] = []
    const writing = Promise.all(
      Array.from({ length: WRITERS }, (_, w) => writer(schemas.url, w, expected, ids)),
    )
    // Half-way, the consumer goes away; the other process takes over its work.
    await expect.poll(() => expected.length, { timeout: 20_000 }).toBeGreaterThan(1000)
    await first.hookline.stop()
    hooklines.splice(hooklines.indexOf(first.hookline), 1)
    await writing
    const writtenIn = Date.now() - started

    await receiver.waitFor(expected.length, 30_000)
    await expect.poll(() => admin.countPendingChanges()).toBe(0)
    await second.hookline.drain()

    const got = receiver.received.map(
      (r) => JSON.parse(r.body) as { id: string; data: ItemChanged },
    )
    const events = got.map((e) => key(e.data.id, e.data.action, e.data.version))
    expect(expected.length).toBeGreaterThan(2000)
    // None lost, none doubled.
    expect(new Set(got.map((e) => e.id)).size).toBe(got.length)
    expect(events.sort()).toEqual([...expected].sort())

    // Per row, the fan-out (delivery queue) order is the order of the row's changes.
    const queued = await admin.db.all<{ body: string }>(
      `SELECT m.body FROM ${schemas.hooklineSchema}.deliveries d
       JOIN ${schemas.hooklineSchema}.messages m ON m.id = d.message_id ORDER BY d.seq`,
    )
    const lastVersion = new Map<number, number>()
    for (const { body } of queued) {
      const { data } = JSON.parse(body) as { data: ItemChanged }
      const previous = lastVersion.get(data.id)
      if (data.action === 'insert') expect(previous).toBeUndefined()
      else expect(data.version).toBe((previous ?? -1) + 1)
      lastVersion.set(data.id, data.version)
    }
    console.info(
      `${expected.length} changes from ${WRITERS} writers in ${writtenIn} ms, all delivered once in ${Date.now() - started} ms`,
    )
    await admin.close()
  })
})
