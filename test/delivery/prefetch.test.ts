import { describe, expect, it } from 'vitest'
import { openSqliteStore } from '../../src/storage/sqlite/sqlite-store.ts'
import {
  countClaims,
  heldDispatcher,
  subscriptionWithDue,
  until,
} from '../helpers/held-dispatcher.ts'
import { tempDbPath, tempDir } from '../helpers/temp.ts'

describe('the dispatcher', () => {
  it('claims a round beyond its slots, and gives a freed slot to the subscription that waited longest', async () => {
    const store = openSqliteStore({ filename: tempDbPath(tempDir()) })
    await store.migrate()
    const early = await subscriptionWithDue(store, 'Early', 2)
    const late = await subscriptionWithDue(store, 'Late', 2)
    const claimed = countClaims(store)
    const held = heldDispatcher(store, { concurrency: 2, perSubscriptionConcurrency: 2 })
    held.dispatcher.start()
    // Both global slots go to the older deliveries; the next round is claimed meanwhile and
    // waits, though its subscription has slots of its own free.
    await until(() => claimed.length === 4)
    expect(held.sent.map((j) => j.subscriptionId)).toEqual([early, early])
    // The first answer frees a slot: the waiting subscription takes it, with no claim.
    held.answer(1)
    await until(() => held.sent.length === 3)
    expect(held.sent[2]!.subscriptionId).toBe(late)
    held.answer()
    await until(() => held.sent.length === 4)
    expect(held.sent[3]!.subscriptionId).toBe(late)
    expect(claimed).toHaveLength(4)
    held.answer()
    await held.dispatcher.stop()
    await store.close()
  })
})
