import { describe, expect, it } from 'vitest'
import { DeepQueue } from '../../src/delivery/deep-queue.ts'
import { leasePicker } from '../../src/storage/claim-offers.ts'
import type { DeliveryJob } from '../../src/storage/types.ts'

const job = (subscriptionId: string, n: number) =>
  ({ id: `${subscriptionId}-${n}`, subscriptionId }) as DeliveryJob

describe('the deep queue', () => {
  it('keeps each subscription in order, up to its capacity in all', () => {
    const q = new DeepQueue(3)
    expect(q.push(job('a', 1), 100)).toBe(true)
    expect(q.push(job('b', 1), 100)).toBe(true)
    expect(q.push(job('a', 2), 100)).toBe(true)
    expect(q.push(job('a', 3), 100)).toBe(false)
    expect(q.room).toBe(0)
    expect(q.take('a', 5, 50).jobs.map((j) => j.id)).toEqual(['a-1', 'a-2'])
    expect(q.subscriptions()).toEqual(['b'])
    expect(q.size).toBe(1)
  })

  it('hands back, not out, what is no longer to be sent from here', () => {
    const q = new DeepQueue(10)
    q.push(job('a', 1), 100)
    q.push(job('a', 2), 200)
    q.push(job('a', 3), 300)
    // Taken at 150: the first is stale, the second goes, the third stays.
    expect(q.take('a', 1, 150)).toEqual({ jobs: [job('a', 2)], stale: ['a-1'] })
    expect(q.expire('a', 299)).toEqual([])
    expect(q.expire('a', 300)).toEqual(['a-3'])
    expect(q.size).toBe(0)
    q.push(job('b', 1), 100)
    q.push(job('b', 2), 100)
    expect(q.drop('b')).toEqual(['b-1', 'b-2'])
    expect(q.drop('b')).toEqual([])
    expect(q.size).toBe(0)
  })

  it('stays in order through a long line that never empties', () => {
    const q = new DeepQueue(10_000)
    let pushed = 0
    let taken = 0
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 300; i++) q.push(job('a', pushed++), 1)
      for (const j of q.take('a', 250, 0).jobs) expect(j.id).toBe(`a-${taken++}`)
    }
    expect(q.size).toBe(pushed - taken)
    expect(q.drop('a')).toHaveLength(pushed - taken)
  })
})

describe('an outbox step offered a deep queue', () => {
  const sub = (id: string, ordering = 'concurrent') =>
    ({ id, ordering, max_concurrency: null }) as const
  it('leases beyond each share only to the subscriptions offered it, up to its limit', () => {
    const pick = leasePicker({
      now: 0,
      limit: 2,
      leaseMs: 1000,
      exclude: ['held'],
      perSubscription: 1,
      deep: { limit: 2, to: new Set(['a', 'held', 'strict']) },
    })
    const picks = [
      pick(sub('a')), // its share
      pick(sub('a')), // deep
      pick(sub('b')), // its share
      pick(sub('b')), // no deep for b
      pick(sub('held')), // excluded from shares, but offered deep
      pick(sub('strict', 'strict')), // never leased
      pick(sub('a')), // deep is used up
    ]
    expect(picks).toEqual([true, true, true, false, true, false, false])
  })
})
