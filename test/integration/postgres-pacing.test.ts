import { afterEach, describe, expect, it } from 'vitest'
import type { Hookline } from '../../src/hookline.ts'
import { countClaims, until } from '../helpers/held-dispatcher.ts'
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

/** A started Hookline on the test schemas (two slots per subscription), counting what its claims find. */
async function start() {
  const hookline = await itemHookline(schemas!, {
    // The receiver listens on loopback, which production refuses.
    delivery: { concurrency: 8, perSubscriptionConcurrency: 2, allowPrivateTargets: true },
  })
  const { store } = hookline
  const claimed = countClaims(store)
  running.push(hookline)
  await hookline.start()
  return { hookline, claimed, alone: () => store.alone?.() === true }
}

/** Inserts `n` rows in one transaction from another connection, as psql would. */
const insertItems = (n: number) =>
  withAdmin((c) =>
    c.query(`INSERT INTO ${schemas!.appSchema}.item SELECT FROM generate_series(1, ${n})`),
  )

/**
 * A Hookline alone on fresh schemas with an item table, one subscription to a receiver
 * answering in `delayMs`, and one change delivered: the next steps know where its event
 * fans out.
 */
async function aloneWithOneItem(delayMs: number) {
  schemas = await createTestSchemas()
  await withAdmin((c) => c.query(`CREATE TABLE ${schemas!.appSchema}.item (id serial PRIMARY KEY)`))
  receiver = await startReceiver()
  receiver.respond = () => ({ status: 200, delayMs })
  const started = await start()
  await started.hookline.subscriptions.subscribe({ event: 'ItemAdded', targetUrl: receiver.url })
  await until(started.alone)
  await insertItems(1)
  await receiver.waitFor(1)
  return { ...started, receiver }
}

describe('capture on PostgreSQL', () => {
  it('keeps pace with the sender while its process runs alone, and leaves work to claims once another runs', async () => {
    const first = await aloneWithOneItem(5)
    const { receiver } = first
    await insertItems(20)
    await receiver.waitFor(21)
    // Steps of the room of its 2 slots and queue, each leased whole: no claim found one.
    expect(first.claimed).toHaveLength(0)

    const second = await start()
    await until(() => !first.alone() && !second.alone())
    await insertItems(40)
    const received = await receiver.waitFor(61)
    expect(new Set(received.map((r) => r.headers['webhook-id'])).size).toBe(61)
    // Unpaced: what the leader did not lease waited for claims, the other process's too.
    expect(first.claimed.length + second.claimed.length).toBeGreaterThan(0)

    await second.hookline.stop()
    running.splice(running.indexOf(second.hookline), 1)
    await until(first.alone)
  })

  it('leases a burst past its paced second into memory while alone, none of it claimed', async () => {
    // Two slots, 40 ms an answer: 100 changes take 2 s to send.
    const only = await aloneWithOneItem(40)
    const { receiver } = only
    await insertItems(100)
    await until(async () => (await only.hookline.store.countPendingChanges()) === 0)
    expect(receiver.received.length).toBeLessThan(80)
    const received = await receiver.waitFor(101)
    expect(new Set(received.map((r) => r.headers['webhook-id'])).size).toBe(101)
    expect(only.claimed).toHaveLength(0)
  })
})
