import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { defineEvent } from '../../src/events/define-event.ts'
import { createHookline, type Hookline } from '../../src/hookline.ts'
import { openStore } from '../../src/storage/open-store.ts'
import { defineTracking } from '../../src/tracking/define-tracking.ts'
import { createTestSchemas, itemHookline, withAdmin } from '../helpers/postgres.ts'
import { type Receiver, startReceiver } from '../helpers/receiver.ts'
import { tempDbPath, tempDir } from '../helpers/temp.ts'

const dir = tempDir()
let receiver: Receiver | undefined
const running: Hookline[] = []
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const h of running.splice(0)) await h.stop()
  await receiver?.close()
  for (const c of cleanups.splice(0)) await c()
})

// The receiver listens on loopback, which production refuses.
const delivery = { allowPrivateTargets: true }

/** A database with an `item` table that fires `ItemAdded`, seen from Hookline and from outside. */
interface ItemDatabase {
  /** A new Hookline on it, started. */
  start(): Promise<Hookline>
  /** Runs SQL on it from another connection, as psql or another program would. */
  exec(sql: string): Promise<void>
  /** A Hookline table's name. */
  table(name: string): string
  /** SQL that keeps the change log aside (with, on SQLite, its generation). */
  readonly keepLog: string
  /** SQL that puts the kept log back, ids and all. */
  readonly restoreLog: string
}

async function sqliteItems(): Promise<ItemDatabase> {
  const file = tempDbPath(dir)
  const exec = async (sql: string) => {
    const db = new Database(file)
    db.pragma('busy_timeout = 5000')
    db.exec(sql)
    db.close()
  }
  await exec('CREATE TABLE item (id INTEGER PRIMARY KEY)')
  return {
    async start() {
      const hookline = await createHookline({
        database: await openStore(`sqlite:${file}`),
        events: {
          ItemAdded: defineEvent({ description: 'An item', build: ({ rowId }) => ({ rowId }) }),
        },
        tracking: {
          item: defineTracking({ onChange: (c, { trigger }) => trigger('ItemAdded', c.rowId) }),
        },
        delivery,
      })
      running.push(hookline)
      await hookline.start()
      return hookline
    },
    exec,
    table: (name) => `hookline_${name}`,
    keepLog: `CREATE TABLE kept AS SELECT * FROM hookline_changes;
      CREATE TABLE kept_meta AS SELECT * FROM hookline_meta WHERE key = 'change_log_generation'`,
    restoreLog: `INSERT INTO hookline_changes SELECT * FROM kept;
      DELETE FROM hookline_meta WHERE key = 'change_log_generation';
      INSERT INTO hookline_meta SELECT * FROM kept_meta`,
  }
}

async function postgresItems(): Promise<ItemDatabase> {
  const schemas = await createTestSchemas()
  cleanups.push(() => schemas.drop())
  const exec = async (sql: string) => {
    await withAdmin((c) => c.query(`SET search_path = ${schemas.appSchema}; ${sql}`))
  }
  await exec('CREATE TABLE item (id serial PRIMARY KEY)')
  const table = (name: string) => `${schemas.hooklineSchema}.${name}`
  return {
    async start() {
      const hookline = await itemHookline(schemas, { delivery })
      running.push(hookline)
      await hookline.start()
      return hookline
    },
    exec,
    table,
    keepLog: `CREATE TABLE kept AS SELECT * FROM ${table('changes')}`,
    restoreLog: `INSERT INTO ${table('changes')} OVERRIDING SYSTEM VALUE SELECT * FROM kept`,
  }
}

describe.each([
  ['SQLite', sqliteItems],
  ['PostgreSQL', postgresItems],
])('message ids on %s', (_name, items) => {
  it('sends a change read again after a lost outbox step under the same webhook-id', async () => {
    const db = await items()
    receiver = await startReceiver()
    let hookline = await db.start()
    await hookline.subscriptions.subscribe({ event: 'ItemAdded', targetUrl: receiver.url })
    await hookline.stop()
    running.splice(0)

    // Two rows captured while no Hookline runs; the log is kept aside to be put back.
    await db.exec('INSERT INTO item DEFAULT VALUES; INSERT INTO item DEFAULT VALUES')
    await db.exec(db.keepLog)
    hookline = await db.start()
    const first = await receiver.waitFor(2)
    const ids = first.map((r) => r.headers['webhook-id'] as string)
    expect(new Set(ids).size).toBe(2)
    for (const r of first) expect(JSON.parse(r.body).id).toBe(r.headers['webhook-id'])
    await hookline.stop()
    running.splice(0)

    // What a crash loses with a commit that had not reached the disk: the outbox step's
    // messages, deliveries and attempts are gone, and its changes are back in the log.
    await db.exec(`DELETE FROM ${db.table('attempts')}; DELETE FROM ${db.table('deliveries')};
      DELETE FROM ${db.table('messages')}; ${db.restoreLog}`)
    // A new Hookline reads the same seed from the database. (Both are sent at once: they
    // may arrive in either order.)
    hookline = await db.start()
    const again = (await receiver.waitFor(4)).slice(2)
    expect(again.map((r) => r.headers['webhook-id']).sort()).toEqual([...ids].sort())
    for (const r of again) expect(JSON.parse(r.body).id).toBe(r.headers['webhook-id'])

    // A new change gets an id of its own.
    await db.exec('INSERT INTO item DEFAULT VALUES')
    const [third] = (await receiver.waitFor(5)).slice(4)
    expect(ids).not.toContain(third!.headers['webhook-id'])
    expect(third!.headers['webhook-id']).toMatch(/^msg_[0-9a-z]{26}$/)
  })

  it('keeps one seed per database, made once even when Hookline processes start together', async () => {
    const db = await items()
    const [a, b] = await Promise.all([db.start(), db.start()])
    const seeds = await Promise.all([a!.store.changeMessageSeed!(), b!.store.changeMessageSeed!()])
    expect(seeds[0]).toMatch(/^[0-9a-f]{32}/)
    expect(seeds[1]).toBe(seeds[0])
    expect(await a!.store.changeMessageSeed!()).toBe(seeds[0])
  })
})
