import { describe, expect, it } from 'vitest'
import { demoHookline } from '../helpers/demo.ts'
import { startReceiver } from '../helpers/receiver.ts'
import { tempDbPath, tempDir } from '../helpers/temp.ts'
import { expectError, useApi } from './harness.ts'

const api = useApi()

describe('test sends, recovery and ordering over the API', () => {
  it('POST …/{id}/test delivers the sample to that subscription and returns the attempt', async () => {
    const r = await startReceiver()
    try {
      const sub = await api.current.call('POST', '/api/v1/webhooks/subscribe', {
        json: { event: 'NewContact', url: r.url },
      })
      const res = await api.current.call(
        'POST',
        `/api/v1/webhooks/subscriptions/${sub.json.id}/test`,
      )
      expect(res.status).toBe(200)
      expect(res.json).toMatchObject({
        status: 'succeeded',
        attempts: 1,
        subscription_id: sub.json.id,
      })
      expect(res.json.attempt_log).toEqual([expect.objectContaining({ status_code: 200 })])
      expect(JSON.parse(r.received[0]!.body)).toMatchObject({
        type: 'NewContact',
        data: { first_name: 'Ada' },
      })
      expectError(
        await api.current.call('POST', '/api/v1/webhooks/subscriptions/sub_nope/test'),
        404,
        'subscription_not_found',
      )
    } finally {
      await r.close()
    }
  })

  it('POST …/{id}/recover re-queues failed deliveries since a time, and refuses a bad time', async () => {
    const sub = await api.current.call('POST', '/api/v1/webhooks/subscribe', {
      json: { event: 'NewOpportunity', url: 'http://127.0.0.1:9/closed' },
    })
    await api.current.hookline.trigger('NewOpportunity', 1)
    await api.current.hookline.drain() // port 9 refuses: the delivery fails
    const res = await api.current.call(
      'POST',
      `/api/v1/webhooks/subscriptions/${sub.json.id}/recover`,
      {
        json: { since: '2000-01-01T00:00:00Z' },
      },
    )
    expect(res.status).toBe(202)
    expect(res.json).toEqual({ recovered: 1 })
    const bad = await api.current.call(
      'POST',
      `/api/v1/webhooks/subscriptions/${sub.json.id}/recover`,
      { json: { since: 'yesterday' } },
    )
    expectError(bad, 422, 'invalid_request')
  })

  it('accepts ordering on subscribe and PATCH, and refuses unknown values', async () => {
    const sub = await api.current.call('POST', '/api/v1/webhooks/subscribe', {
      json: { event: 'NewOpportunity', url: 'http://127.0.0.1:9/o', ordering: 'strict' },
    })
    expect(sub.json.ordering).toBe('strict')
    const patched = await api.current.call(
      'PATCH',
      `/api/v1/webhooks/subscriptions/${sub.json.id}`,
      { json: { ordering: 'concurrent' } },
    )
    expect(patched.json.ordering).toBe('concurrent')
    const bad = await api.current.call('POST', '/api/v1/webhooks/subscribe', {
      json: { event: 'NewOpportunity', url: 'http://127.0.0.1:9/p', ordering: 'fifo' },
    })
    expectError(bad, 422)
  })

  it('accepts max_concurrency on subscribe and PATCH (null: the default), and refuses bad values', async () => {
    const sub = await api.current.call('POST', '/api/v1/webhooks/subscribe', {
      json: { event: 'NewOpportunity', url: 'http://127.0.0.1:9/c', max_concurrency: 64 },
    })
    expect(sub.status).toBe(201)
    expect(sub.json.max_concurrency).toBe(64)
    const path = `/api/v1/webhooks/subscriptions/${sub.json.id}`
    const patched = await api.current.call('PATCH', path, { json: { max_concurrency: null } })
    expect(patched.json.max_concurrency).toBeNull()
    expect((await api.current.call('GET', path)).json.max_concurrency).toBeNull()
    for (const bad of [0, 1001, 2.5, '4', -1])
      expectError(await api.current.call('PATCH', path, { json: { max_concurrency: bad } }), 422)
    expect((await api.current.call('GET', path)).json.max_concurrency).toBeNull()
  })
})

describe('SSRF protection at subscribe time', () => {
  it('refuses loopback, private and metadata targets when private targets are not allowed', async () => {
    const hookline = await demoHookline(`sqlite:${tempDbPath(tempDir())}`, {
      delivery: { allowPrivateTargets: false },
    })
    try {
      for (const url of [
        'http://127.0.0.1/',
        'http://[::1]/',
        'http://169.254.169.254/',
        'http://2130706433/',
        'http://10.0.0.1/',
      ])
        await expect(
          hookline.subscriptions.subscribe({ event: 'NewOpportunity', targetUrl: url }),
        ).rejects.toMatchObject({
          code: 'target_not_allowed',
        })
      expect(await hookline.subscriptions.list({})).toEqual([])
    } finally {
      await hookline.stop()
    }
  })
})

describe('set-aside changes over the API', () => {
  it('lists none and retries none on a healthy project, and refuses bad ids', async () => {
    const list = await api.current.call('GET', '/api/v1/changes/failed')
    expect(list.status).toBe(200)
    expect(list.json).toEqual([])
    const retry = await api.current.call('POST', '/api/v1/changes/retry', { json: {} })
    expect(retry.status).toBe(202)
    expect(retry.json).toEqual({ retried: 0 })
    expectError(
      await api.current.call('POST', '/api/v1/changes/retry', { json: { ids: ['x'] } }),
      422,
    )
  })
})
