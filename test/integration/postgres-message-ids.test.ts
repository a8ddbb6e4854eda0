import { afterEach, describe, expect, it } from 'vitest'
import type { Hookline } from '../../src/hookline.ts'
import {
  createTestSchemas,
  itemHookline,
  type TestSchemas,
  withAdmin,
} from '../helpers/postgres.ts'
import { type Receiver, startReceiver } from '../helpers/receiver.ts'

let schemas: TestSchemas | undefined
let receiver: Receiver | undefined
const running: Hookline[] = []
afterEach(async () => {
  for (const h of running.splice(0)) await h.stop()
  await receiver?.close()
  await schemas?.drop()
})

async function startHookline(): Promise<Hookline> {
  const hookline = await itemHookline(schemas!, {
    // The receiver listens on loopback, which production refuses.
    delivery: { allowPrivateTargets: true },
  })
  running.push(hookline)
  await hookline.start()
  return hookline
}

const admin = (sql: string) => withAdmin((c) => c.query(sql))

describe('message ids on PostgreSQL', () => {
  it('sends a change read again after a lost outbox step under the same webhook-id', async () => {
    schemas = await createTestSchemas()
    const { appSchema, hooklineSchema: hl } = schemas
    await admin(`CREATE TABLE ${appSchema}.item (id serial PRIMARY KEY)`)
    receiver = await startReceiver()
    let hookline = await startHookline()
    await hookline.subscriptions.subscribe({ event: 'ItemAdded', targetUrl: receiver.url })
    await hookline.stop()
    running.splice(0)

    // Two rows captured while no Hookline runs; the log is kept aside to be put back.
    await admin(`INSERT INTO ${appSchema}.item SELECT FROM generate_series(1, 2)`)
    await admin(`CREATE TABLE ${appSchema}.kept AS SELECT * FROM ${hl}.changes`)
    hookline = await startHookline()
    const first = await receiver.waitFor(2)
    const ids = first.map((r) => r.headers['webhook-id'] as string)
    expect(new Set(ids).size).toBe(2)
    for (const [i, r] of first.entries()) expect(JSON.parse(r.body).id).toBe(ids[i])
    await hookline.stop()
    running.splice(0)

    // What PostgreSQL loses with a commit that had not reached the disk: the outbox step's
    // messages, deliveries and attempts are gone and its changes are back in the log.
    await admin(`DELETE FROM ${hl}.attempts; DELETE FROM ${hl}.deliveries; DELETE FROM ${hl}.messages;
      INSERT INTO ${hl}.changes OVERRIDING SYSTEM VALUE SELECT * FROM ${appSchema}.kept`)
    // A new process, with a new connection pool, reads the same seed from the database.
    hookline = await startHookline()
    // (Both are sent at once: they may arrive in either order.)
    const again = (await receiver.waitFor(4)).slice(2)
    expect(again.map((r) => r.headers['webhook-id']).sort()).toEqual([...ids].sort())
    for (const r of again) expect(JSON.parse(r.body).id).toBe(r.headers['webhook-id'])

    // A new change gets an id of its own.
    await admin(`INSERT INTO ${appSchema}.item DEFAULT VALUES`)
    const [third] = (await receiver.waitFor(5)).slice(4)
    expect(ids).not.toContain(third!.headers['webhook-id'])
    expect(third!.headers['webhook-id']).toMatch(/^msg_[0-9a-z]{26}$/)
  })

  it('keeps one seed per database, made once even when processes start together', async () => {
    schemas = await createTestSchemas()
    await admin(`CREATE TABLE ${schemas.appSchema}.item (id serial PRIMARY KEY)`)
    const [a, b] = await Promise.all([startHookline(), startHookline()])
    const seeds = await Promise.all([a!.store.changeMessageSeed!(), b!.store.changeMessageSeed!()])
    expect(seeds[0]).toMatch(/^[0-9a-f]{32}$/)
    expect(seeds[1]).toBe(seeds[0])
    expect(await a!.store.changeMessageSeed!()).toBe(seeds[0])
  })
})
