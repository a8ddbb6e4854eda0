import { describe, expect, it } from 'vitest'
import { expectError, target, useApi } from './harness.ts'

const api = useApi()
const SUBSCRIBE = '/api/v1/webhooks/subscribe'

describe('POST /api/v1/webhooks/subscribe', () => {
  it('creates a subscription: 201, the subscription object and its Location', async () => {
    const res = await api.current.call('POST', SUBSCRIBE, {
      json: { event: 'NewOpportunity', target_url: target('a') },
    })
    expect(res.status).toBe(201)
    expect(res.json).toEqual({
      id: expect.stringMatching(/^sub_/),
      event: 'NewOpportunity',
      target_url: target('a'),
      status: 'active',
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/=]{24,}$/),
      headers: {},
      ordering: 'concurrent',
      max_concurrency: null,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    })
    expect(new Date(res.json.created_at).toISOString()).toBe(res.json.created_at)
    expect(res.headers.location).toBe(`/api/v1/webhooks/subscriptions/${res.json.id}`)

    const read = await api.current.call('GET', String(res.headers.location))
    expect(read.status).toBe(200)
    expect(read.json).toEqual(res.json)
  })

  it('is idempotent: the same event and URL again answers 200 with the same subscription', async () => {
    const body = { event: 'NewOpportunity', target_url: target('same') }
    const first = await api.current.call('POST', SUBSCRIBE, { json: body })
    const again = await api.current.call('POST', SUBSCRIBE, { json: body })
    expect(first.status).toBe(201)
    expect(again.status).toBe(200)
    expect(again.json).toEqual(first.json)
    expect(again.headers.location).toBe(first.headers.location)
    // Under another alias, and with the URL spelled differently (normalised to the same).
    const alias = await api.current.call('POST', SUBSCRIBE, {
      json: { event: 'NewOpportunity', hookUrl: 'HTTP://127.0.0.1:9/same' },
    })
    expect(alias.status).toBe(200)
    expect(alias.json.id).toBe(first.json.id)
    const list = await api.current.call('GET', '/api/v1/webhooks/subscriptions')
    expect(list.json).toHaveLength(1)
  })

  it('gives a different event on the same URL its own subscription', async () => {
    const a = await api.current.call('POST', SUBSCRIBE, {
      json: { event: 'NewOpportunity', target_url: target('shared') },
    })
    const b = await api.current.call('POST', SUBSCRIBE, {
      json: { event: 'OpportunityWon', target_url: target('shared') },
    })
    expect([a.status, b.status]).toEqual([201, 201])
    expect(b.json.id).not.toBe(a.json.id)
  })

  it.each(['url', 'targetUrl', 'hookUrl', 'target'])('accepts the URL as %s', async (alias) => {
    const res = await api.current.call('POST', SUBSCRIBE, {
      json: { event: 'NewContact', [alias]: target(alias) },
    })
    expect(res.status).toBe(201)
    expect(res.json.target_url).toBe(target(alias))
  })

  it('accepts several aliases when they agree, refuses them when they differ', async () => {
    const same = await api.current.call('POST', SUBSCRIBE, {
      json: { event: 'NewContact', url: target('x'), target_url: target('x') },
    })
    expect(same.status).toBe(201)
    const differ = await api.current.call('POST', SUBSCRIBE, {
      json: { event: 'NewContact', url: target('x'), targetUrl: target('y') },
    })
    expectError(differ, 422, 'invalid_request')
    expect(differ.json.error.message).toContain('target_url')
  })

  it('stores static headers sent with every delivery', async () => {
    const res = await api.current.call('POST', SUBSCRIBE, {
      json: {
        event: 'NewCompany',
        target_url: target('h'),
        headers: { Authorization: 'Bearer receiver-token', 'X-Tenant': '42' },
      },
    })
    expect(res.status).toBe(201)
    expect(res.json.headers).toEqual({ Authorization: 'Bearer receiver-token', 'X-Tenant': '42' })
  })

  it('answers an unknown event with 404 unknown_event listing the known events', async () => {
    const res = await api.current.call('POST', SUBSCRIBE, {
      json: { event: 'NewOportunity', target_url: target('typo') },
    })
    expectError(res, 404, 'unknown_event')
    expect(res.json.error.message).toContain("'NewOportunity'")
    expect(res.json.error.message).toContain("'NewOpportunity'")
    expect(res.json.error.known_events).toEqual(
      expect.arrayContaining(['NewCompany', 'NewContact', 'NewOpportunity', 'OpportunityWon']),
    )
  })

  it.each([
    'example.com/hooks',
    '/relative/path',
    'ftp://example.com/hooks',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'mailto:ops@example.com',
    'http://',
    'http://[::1',
    'https://user:secret@example.com/hooks',
    `https://example.com/${'x'.repeat(3000)}`,
  ])('refuses target URL %s with 422 invalid_target_url', async (url) => {
    const res = await api.current.call('POST', SUBSCRIBE, {
      json: { event: 'NewOpportunity', target_url: url },
    })
    expectError(res, 422, 'invalid_target_url')
  })
})

describe('unsubscribe', () => {
  async function subscribe(event: string, url: string): Promise<string> {
    const res = await api.current.call('POST', SUBSCRIBE, { json: { event, target_url: url } })
    expect(res.status).toBe(201)
    return res.json.id
  }

  it('by id: 204, again 204 (clients retry), and the subscription is gone', async () => {
    const id = await subscribe('NewOpportunity', target('bye'))
    const path = `/api/v1/webhooks/subscriptions/${id}`
    const first = await api.current.call('DELETE', path)
    expect(first.status).toBe(204)
    expect(first.text).toBe('')
    const again = await api.current.call('DELETE', path)
    expect(again.status).toBe(204)
    expectError(await api.current.call('GET', path), 404, 'subscription_not_found')
    const list = await api.current.call('GET', '/api/v1/webhooks/subscriptions')
    expect(list.json).toEqual([])
  })

  it('by id: an id that never existed is 404', async () => {
    const res = await api.current.call('DELETE', '/api/v1/webhooks/subscriptions/sub_nope')
    expectError(res, 404, 'subscription_not_found')
    expect(res.json.error.message).toContain('sub_nope')
  })

  it('by id: tolerates content-type: application/json with an empty body or {}', async () => {
    const id = await subscribe('NewOpportunity', target('ct'))
    const path = `/api/v1/webhooks/subscriptions/${id}`
    const empty = await api.current.call('DELETE', path, {
      headers: { 'content-type': 'application/json' },
      body: '',
    })
    expect(empty.status).toBe(204)
    expect((await api.current.call('DELETE', path, { json: {} })).status).toBe(204)
  })

  it('subscribing again after an unsubscribe creates a new subscription', async () => {
    const id = await subscribe('NewOpportunity', target('again'))
    await api.current.call('DELETE', `/api/v1/webhooks/subscriptions/${id}`)
    const res = await api.current.call('POST', SUBSCRIBE, {
      json: { event: 'NewOpportunity', target_url: target('again') },
    })
    expect(res.status).toBe(201)
    expect(res.json.id).not.toBe(id)
  })

  it('by URL and event: 204, removes only that event', async () => {
    const won = await subscribe('OpportunityWon', target('u'))
    await subscribe('NewOpportunity', target('u'))
    const res = await api.current.call('POST', '/api/v1/webhooks/unsubscribe', {
      json: { target_url: target('u'), event: 'NewOpportunity' },
    })
    expect(res.status).toBe(204)
    const left = await api.current.call('GET', '/api/v1/webhooks/subscriptions')
    expect(left.json.map((s: { id: string }) => s.id)).toEqual([won])
  })

  it('by URL without event: 204, removes every event of that URL and nothing else', async () => {
    await subscribe('OpportunityWon', target('all'))
    await subscribe('NewOpportunity', target('all'))
    const other = await subscribe('NewOpportunity', target('other'))
    const res = await api.current.call('POST', '/api/v1/webhooks/unsubscribe', {
      json: { hookUrl: target('all') },
    })
    expect(res.status).toBe(204)
    const left = await api.current.call('GET', '/api/v1/webhooks/subscriptions')
    expect(left.json.map((s: { id: string }) => s.id)).toEqual([other])
    const again = await api.current.call('POST', '/api/v1/webhooks/unsubscribe', {
      json: { url: target('all') },
    })
    expect(again.status).toBe(204)
  })

  it('by URL: a missing or bad URL is refused', async () => {
    const path = '/api/v1/webhooks/unsubscribe'
    expectError(await api.current.call('POST', path, { json: {} }), 422, 'invalid_request')
    expectError(
      await api.current.call('POST', path, { json: { target_url: 'nope' } }),
      422,
      'invalid_target_url',
    )
    expectError(
      await api.current.call('POST', path, { json: { target_url: target('a'), extra: 1 } }),
      422,
      'unknown_field',
    )
  })
})

describe('subscribing again to a disabled subscription', () => {
  it('re-enables it, with the same id', async () => {
    const body = { event: 'NewOpportunity', target_url: 'http://127.0.0.1:9/again' }
    const first = await api.current.call('POST', '/api/v1/webhooks/subscribe', { json: body })
    await api.current.call('PATCH', `/api/v1/webhooks/subscriptions/${first.json.id}`, {
      json: { status: 'disabled' },
    })
    const again = await api.current.call('POST', '/api/v1/webhooks/subscribe', { json: body })
    expect(again.status).toBe(200)
    expect(again.json).toMatchObject({ id: first.json.id, status: 'active' })
    expect(again.json.disabled_reason).toBeUndefined()
  })
})
