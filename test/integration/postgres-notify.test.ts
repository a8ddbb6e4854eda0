import { afterEach, describe, expect, it } from 'vitest'
import type { Hookline } from '../../src/hookline.ts'
import {
  createTestSchemas,
  itemHookline,
  type TestSchemas,
  withAdmin,
} from '../helpers/postgres.ts'

let schemas: TestSchemas | undefined
const running: Hookline[] = []
afterEach(async () => {
  for (const h of running.splice(0)) await h.stop()
  await schemas?.drop()
})

/** A Hookline on PostgreSQL whose capture polls only every 30 s. */
async function start(notify: boolean): Promise<Hookline> {
  const hookline = await itemHookline(schemas!, { capture: { notify, pollIntervalMs: 30_000 } })
  running.push(hookline)
  await hookline.start()
  await new Promise((resolve) => setTimeout(resolve, 300)) // the first look at the log is done
  return hookline
}

/** Inserts a row from another connection, as psql or another program would. */
const insertItem = () =>
  withAdmin((c) => c.query(`INSERT INTO ${schemas!.appSchema}.item DEFAULT VALUES`))

const notifyTriggers = async () =>
  (
    await withAdmin((c) =>
      c.query(`SELECT count(*)::int AS n FROM pg_trigger WHERE tgname = $1`, [
        `hookline_notify_${schemas!.hooklineSchema}`,
      ]),
    )
  ).rows[0]!.n

/** The messages stored once `want` are, or when `ms` ran out. */
async function messagesWithin(h: Hookline, want: number, ms: number): Promise<number> {
  const deadline = Date.now() + ms
  for (;;) {
    const n = await h.store.countMessages('ItemAdded')
    if (n >= want || Date.now() > deadline) return n
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe('capture.notify on PostgreSQL', () => {
  it('wakes capture at once when another client writes, and is removed when turned off', async () => {
    schemas = await createTestSchemas()
    await withAdmin((c) =>
      c.query(`CREATE TABLE ${schemas!.appSchema}.item (id serial PRIMARY KEY)`),
    )

    const woken = await start(true)
    expect(await notifyTriggers()).toBe(1)
    await insertItem()
    expect(await messagesWithin(woken, 1, 5000)).toBe(1)
    // Without its notification, the next row waits for the 30 s poll: the NOTIFY woke it.
    await withAdmin((c) =>
      c.query(
        `DROP TRIGGER hookline_notify_${schemas!.hooklineSchema} ON ${schemas!.appSchema}.item`,
      ),
    )
    await insertItem()
    expect(await messagesWithin(woken, 2, 1000)).toBe(1)
    await woken.stop()
    running.splice(0)

    // Turned off: no trigger, and capture waits for changes in the database instead.
    const quiet = await start(false)
    expect(await notifyTriggers()).toBe(0)
    await insertItem()
    expect(await messagesWithin(quiet, 3, 5000)).toBe(3)
  })
})
