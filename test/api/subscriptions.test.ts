import { describe, expect, it } from 'vitest'
import { expectError, target, useApi } from './harness.ts'

const api = useApi()
const LIST = '/api/v1/webhooks/subscriptions'

async function subscribe(event: string, url: string) {
  const res = await api.current.call('POST', '/api/v1/webhooks/subscribe', {
    json: { event, target_url: url },
  })
  expect(res.status).toBe(201)
  return res.json as { id: string; secret: string; updated_at: string }
}

const ids = (list: { id: string }[]) => list.map((s) => s.id).sort()

describe('GET /api/v1/webhooks/subscriptions', () => {
  it('lists every subscription, filtered by event, target_url or both', async () => {
    const a = await subscribe('NewOpportunity', target('one'))
    const b = await subscribe('OpportunityWon', target('one'))
    const c = await subscribe('NewOpportunity', target('two'))

    const all = await api.current.call('GET', LIST)
    expect(all.status).toBe(200)
    expect(ids(all.json)).toEqual(ids([a, b, c]))

    const byEvent = await api.current.call('GET', `${LIST}?event=NewOpportunity`)
    expect(ids(byEvent.json)).toEqual(ids([a, c]))

    const url = encodeURIComponent(target('one'))
    const byUrl = await api.current.call('GET', `${LIST}?target_url=${url}`)
    expect(ids(byUrl.json)).toEqual(ids([a, b]))

    const both = await api.current.call('GET', `${LIST}?event=OpportunityWon&target_url=${url}`)
    expect(ids(both.json)).toEqual([b.id])

    const none = await api.current.call('GET', `${LIST}?event=NewCompany`)
    expect(none.json).toEqual([])
  })

  it('finds a hook by URL however the client spells it (n8n looks its hooks up by URL)', async () => {
    const a = await subscribe('NewContact', 'https://hooks.example.com/n8n/abc?x=1')
    const spelled = encodeURIComponent('HTTPS://Hooks.Example.com:443/n8n/abc?x=1')
    const res = await api.current.call('GET', `${LIST}?target_url=${spelled}`)
    expect(ids(res.json)).toEqual([a.id])
  })

  it('refuses an unknown filter and a filter URL that is not absolute http(s)', async () => {
    expectError(await api.current.call('GET', `${LIST}?stauts=active`), 422, 'unknown_field')
    expectError(await api.current.call('GET', `${LIST}?target_url=nope`), 422, 'invalid_target_url')
    expectError(await api.current.call('GET', `${LIST}?event=A&event=B`), 422, 'invalid_request')
  })
})

describe('GET /api/v1/webhooks/subscriptions/{id}', () => {
  it('reads one subscription; an unknown id is 404', async () => {
    const a = await subscribe('NewOpportunity', target('read'))
    const res = await api.current.call('GET', `${LIST}/${a.id}`)
    expect(res.status).toBe(200)
    expect(res.json).toEqual(a)
    expectError(await api.current.call('GET', `${LIST}/sub_missing`), 404, 'subscription_not_found')
  })
})

describe('PATCH /api/v1/webhooks/subscriptions/{id}', () => {
  it('disables with a reason and re-enables', async () => {
    const a = await subscribe('NewOpportunity', target('p'))
    const off = await api.current.call('PATCH', `${LIST}/${a.id}`, { json: { status: 'disabled' } })
    expect(off.status).toBe(200)
    expect(off.json).toMatchObject({ id: a.id, status: 'disabled' })
    expect(off.json.disabled_reason).toEqual(expect.any(String))
    expect((await api.current.call('GET', `${LIST}/${a.id}`)).json.status).toBe('disabled')

    const on = await api.current.call('PATCH', `${LIST}/${a.id}`, { json: { status: 'active' } })
    expect(on.json.status).toBe('active')
    expect(on.json.disabled_reason).toBeUndefined()
  })

  it('changes the target URL (normalised) and the headers', async () => {
    const a = await subscribe('NewOpportunity', target('old'))
    const res = await api.current.call('PATCH', `${LIST}/${a.id}`, {
      json: { target_url: 'HTTPS://receiver.example.com/new', headers: { 'X-Token': 't' } },
    })
    expect(res.status).toBe(200)
    expect(res.json).toMatchObject({
      id: a.id,
      target_url: 'https://receiver.example.com/new',
      headers: { 'X-Token': 't' },
      secret: a.secret,
    })
    const cleared = await api.current.call('PATCH', `${LIST}/${a.id}`, { json: { headers: {} } })
    expect(cleared.json.headers).toEqual({})
    expect(cleared.json.target_url).toBe('https://receiver.example.com/new')
  })

  it.each([
    [{ status: 'removed' }, 'invalid_status'],
    [{ status: 'paused' }, 'invalid_status'],
    [{ status: 1 }, 'invalid_request'],
    [{ status: null }, 'invalid_request'],
    [{ target_url: 'ftp://x.example' }, 'invalid_target_url'],
    [{ target_url: '' }, 'invalid_request'],
    [{ headers: { 'Webhook-Signature': 'v1,forged' } }, 'invalid_headers'],
    [{ headers: { 'content-type': 'text/plain' } }, 'invalid_headers'],
    [{ headers: { 'bad name': 'x' } }, 'invalid_headers'],
    [{ headers: { 'X-A': 'line\r\nInjected: 1' } }, 'invalid_headers'],
    [{ headers: { 'X-A': 1 } }, 'invalid_request'],
    [{ headers: [] }, 'invalid_request'],
    [{ event: 'OpportunityWon' }, 'unknown_field'],
    [{ secret: 'whsec_mine' }, 'unknown_field'],
    [{}, 'invalid_request'],
  ])('refuses %j with 422 %s and changes nothing', async (body, code) => {
    const a = await subscribe('NewOpportunity', target('bad'))
    expectError(await api.current.call('PATCH', `${LIST}/${a.id}`, { json: body }), 422, code)
    expect((await api.current.call('GET', `${LIST}/${a.id}`)).json).toEqual(a)
  })

  it('is 404 for an unknown or removed subscription', async () => {
    const a = await subscribe('NewOpportunity', target('gone'))
    await api.current.call('DELETE', `${LIST}/${a.id}`)
    for (const id of [a.id, 'sub_missing'])
      expectError(
        await api.current.call('PATCH', `${LIST}/${id}`, { json: { status: 'active' } }),
        404,
        'subscription_not_found',
      )
  })
})

describe('POST /api/v1/webhooks/subscriptions/{id}/rotate-secret', () => {
  it('answers the subscription with a new secret', async () => {
    const a = await subscribe('NewOpportunity', target('rot'))
    const res = await api.current.call('POST', `${LIST}/${a.id}/rotate-secret`)
    expect(res.status).toBe(200)
    expect(res.json.id).toBe(a.id)
    expect(res.json.secret).toMatch(/^whsec_/)
    expect(res.json.secret).not.toBe(a.secret)
    expect((await api.current.call('GET', `${LIST}/${a.id}`)).json.secret).toBe(res.json.secret)
    // The old secret is not shown again.
    expect(JSON.stringify(res.json)).not.toContain(a.secret)
  })

  it('accepts an empty JSON object, refuses fields, 404s unknown ids', async () => {
    const a = await subscribe('NewOpportunity', target('rot2'))
    const path = `${LIST}/${a.id}/rotate-secret`
    expect((await api.current.call('POST', path, { json: {} })).status).toBe(200)
    expectError(
      await api.current.call('POST', path, { json: { secret: 'whsec_x' } }),
      422,
      'unknown_field',
    )
    expectError(
      await api.current.call('POST', `${LIST}/sub_missing/rotate-secret`),
      404,
      'subscription_not_found',
    )
  })
})
