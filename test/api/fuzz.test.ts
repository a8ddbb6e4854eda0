import { describe, expect, it } from 'vitest'
import { type CallOptions, expectError, target, useApi } from './harness.ts'

const api = useApi()
const CASES_PER_ROUTE = 80

/** mulberry32: a seeded PRNG, so that a failing case can be replayed. */
function prng(seed: number) {
  let a = seed
  const next = () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (n: number) => Math.floor(next() * n)
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!
  return { next, int, pick }
}
type Rng = ReturnType<typeof prng>

const JUNK = 'aZ09 _-.:/\\"\'{}[]<>%&\u0000\u00e9\u2603\ud83d\ude00\n\t'
const junkString = (r: Rng, max = 40) =>
  Array.from({ length: r.int(max) }, () => JUNK[r.int(JUNK.length)]).join('')

/** A JSON value of any type and depth; strings never form an absolute http(s) URL. */
function junkValue(r: Rng, depth = 0): unknown {
  switch (r.int(depth > 2 ? 5 : 7)) {
    case 0:
      return null
    case 1:
      return r.next() < 0.5
    case 2:
      return r.pick([0, -1, 1.5, 1e308, Number.MAX_SAFE_INTEGER])
    case 3:
      return junkString(r)
    case 4:
      return r.pick(['', 'NewOpportunity', 'active', 'ftp://x.example', 'http://', '//x.example'])
    case 5:
      return Array.from({ length: r.int(4) }, () => junkValue(r, depth + 1))
    default:
      return Object.fromEntries(
        Array.from({ length: r.int(4) }, () => [junkString(r, 8), junkValue(r, depth + 1)]),
      )
  }
}

/** A request body that no route can accept, with the kind of damage varied. */
function garbageRequest(r: Rng, fields: readonly string[]): CallOptions {
  const JSON_TYPE = { 'content-type': 'application/json' }
  switch (r.int(6)) {
    case 0: // random bytes declared as JSON
      return {
        body: Buffer.from(Array.from({ length: 1 + r.int(200) }, () => r.int(256))),
        headers: JSON_TYPE,
      }
    case 1: // valid JSON that is not an object
      return { body: JSON.stringify(r.pick([null, 0, 'x', [], [{}], true])), headers: JSON_TYPE }
    case 2: // an object with a field no route knows
      return { json: { [`x${junkString(r, 8)}`]: junkValue(r), [r.pick(fields)]: junkValue(r) } }
    case 3: // known fields with values of the wrong type or shape
      return {
        json: Object.fromEntries(
          fields.map((f) => [f, r.pick([null, 7, [], { a: { b: [] } }, false, junkString(r)])]),
        ),
      }
    case 4: // a body that is not JSON at all
      return {
        body: junkString(r, 200) || 'x',
        headers: {
          'content-type': r.pick([
            'text/plain',
            'application/xml',
            'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=z',
            'application/octet-stream',
          ]),
        },
      }
    default: // truncated JSON
      return {
        body: JSON.stringify({ event: 'NewOpportunity', target_url: target('f') }).slice(
          0,
          1 + r.int(40),
        ),
        headers: JSON_TYPE,
      }
  }
}

describe('fuzz: garbage bodies to every route that takes one', () => {
  it('always answers a 4xx with the JSON error shape, never a 500', async () => {
    const sub = await api.current.call('POST', '/api/v1/webhooks/subscribe', {
      json: { event: 'NewOpportunity', target_url: target('fuzz') },
    })
    const id = sub.json.id as string
    const routes: [string, string, string[]][] = [
      ['POST', '/api/v1/webhooks/subscribe', ['event', 'target_url', 'url', 'hookUrl', 'headers']],
      ['POST', '/api/v1/webhooks/unsubscribe', ['target_url', 'url', 'event']],
      ['PATCH', `/api/v1/webhooks/subscriptions/${id}`, ['status', 'target_url', 'headers']],
      ['POST', `/api/v1/webhooks/subscriptions/${id}/rotate-secret`, ['secret']],
      ['DELETE', '/api/v1/webhooks/subscriptions/sub_fuzz', ['reason']],
      ['POST', '/api/v1/deliveries/dlv_fuzz/retry', ['at']],
    ]
    const seed = 20261129
    const r = prng(seed)
    let sent = 0
    for (const [method, path, fields] of routes) {
      for (let i = 0; i < CASES_PER_ROUTE; i++) {
        const options = garbageRequest(r, fields)
        const res = await api.current.call(method, path, options)
        const replay = `seed ${seed}, ${method} ${path} ${JSON.stringify(options.json ?? String(options.body))}`
        expect(res.status, replay).toBeGreaterThanOrEqual(400)
        expect(res.status, replay).toBeLessThan(500)
        expectError(res, res.status)
        sent++
      }
    }
    expect(sent).toBe(routes.length * CASES_PER_ROUTE)
    // The subscription the fuzzing aimed at is still there and unchanged.
    const after = await api.current.call('GET', `/api/v1/webhooks/subscriptions/${id}`)
    expect(after.json).toEqual(sub.json)
  })
})
