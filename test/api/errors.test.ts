import { describe, expect, it } from 'vitest'
import { API_KEY, type CallOptions, expectError, target, useApi } from './harness.ts'

const api = useApi()
const SUBSCRIBE = '/api/v1/webhooks/subscribe'
const JSON_TYPE = { 'content-type': 'application/json' }

async function anySubscriptionId(): Promise<string> {
  const res = await api.current.call('POST', SUBSCRIBE, {
    json: { event: 'NewOpportunity', target_url: target('err') },
  })
  return res.json.id
}

/** Every operation of the API, from its own OpenAPI document, with path parameters filled in. */
async function operations() {
  const doc = (await api.current.call('GET', '/openapi.json')).json
  const subId = await anySubscriptionId()
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops as Record<string, { security?: unknown[] }>).map(([method, op]) => ({
      method: method.toUpperCase(),
      path: path.replace('{id}', subId).replace('{event}', 'NewOpportunity'),
      isPublic: Array.isArray(op.security) && op.security.length === 0,
    })),
  )
}

describe('authentication', () => {
  it('requires the Bearer API key everywhere except /healthz, /readyz and /openapi.json', async () => {
    const ops = await operations()
    expect(ops.length).toBeGreaterThanOrEqual(15)
    expect(ops.filter((o) => o.isPublic).map((o) => o.path)).toEqual([
      '/healthz',
      '/readyz',
      '/openapi.json',
    ])
    const wrongs: CallOptions[] = [
      { anonymous: true },
      { headers: { authorization: 'Bearer not-the-key' } },
      { headers: { authorization: API_KEY } },
      { headers: { authorization: `Basic ${Buffer.from(`x:${API_KEY}`).toString('base64')}` } },
      { headers: { authorization: 'Bearer ' } },
    ]
    for (const op of ops) {
      if (op.isPublic) {
        const res = await api.current.call(op.method, op.path, { anonymous: true })
        expect(res.status, `${op.method} ${op.path}`).toBe(200)
        continue
      }
      for (const wrong of wrongs) {
        const res = await api.current.call(op.method, op.path, wrong)
        expectError(res, 401, 'unauthorized')
        expect(res.headers['www-authenticate']).toBe('Bearer')
      }
    }
  })

  it('answers health without a key', async () => {
    const health = await api.current.call('GET', '/healthz', { anonymous: true })
    expect(health.json).toEqual({ status: 'ok' })
    const ready = await api.current.call('GET', '/readyz', { anonymous: true })
    expect(ready.json).toEqual({ status: 'ready' })
  })
})

describe('bad input gets a 4xx with the JSON error shape', () => {
  const subscribeCases: [string, CallOptions, number, string][] = [
    [
      'malformed JSON',
      { body: '{"event": "NewOpportunity",', headers: JSON_TYPE },
      400,
      'invalid_json',
    ],
    ['an empty body', { body: '', headers: JSON_TYPE }, 400, 'invalid_json'],
    [
      'prototype pollution',
      { body: '{"__proto__": {"admin": true}}', headers: JSON_TYPE },
      400,
      'invalid_json',
    ],
    [
      'text/plain',
      { body: '{"event":"NewOpportunity"}', headers: { 'content-type': 'text/plain' } },
      415,
      'unsupported_media_type',
    ],
    [
      'a form',
      {
        body: 'event=NewOpportunity',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      },
      415,
      'unsupported_media_type',
    ],
    [
      'multipart',
      { body: '--x\r\n\r\n--x--', headers: { 'content-type': 'multipart/form-data; boundary=x' } },
      415,
      'unsupported_media_type',
    ],
    ['a JSON array', { json: [{ event: 'NewOpportunity' }] }, 422, 'invalid_request'],
    ['JSON null', { json: null, body: 'null', headers: JSON_TYPE }, 422, 'invalid_request'],
    ['a JSON string', { json: 'NewOpportunity' }, 422, 'invalid_request'],
    [
      'an event of the wrong type',
      { json: { event: 42, target_url: target('a') } },
      422,
      'invalid_request',
    ],
    [
      'a URL of the wrong type',
      { json: { event: 'NewOpportunity', target_url: ['http://x.example'] } },
      422,
      'invalid_request',
    ],
    [
      'headers of the wrong type',
      { json: { event: 'NewOpportunity', target_url: target('a'), headers: 'X-A: 1' } },
      422,
      'invalid_request',
    ],
    ['a missing event', { json: { target_url: target('a') } }, 422, 'invalid_request'],
    ['a missing URL', { json: { event: 'NewOpportunity' } }, 422, 'invalid_request'],
    ['an empty event', { json: { event: '', target_url: target('a') } }, 422, 'invalid_request'],
    [
      'an unknown field',
      { json: { event: 'NewOpportunity', target_url: target('a'), secret: 's' } },
      422,
      'unknown_field',
    ],
    [
      'an unknown event',
      { json: { event: 'Nope', target_url: target('a') } },
      404,
      'unknown_event',
    ],
    [
      'a relative URL',
      { json: { event: 'NewOpportunity', target_url: '/hooks' } },
      422,
      'invalid_target_url',
    ],
    [
      'a reserved header',
      {
        json: {
          event: 'NewOpportunity',
          target_url: target('a'),
          headers: { 'Webhook-Id': 'msg_x' },
        },
      },
      422,
      'invalid_headers',
    ],
    [
      'a Host header',
      {
        json: {
          event: 'NewOpportunity',
          target_url: target('a'),
          headers: { host: 'evil.example' },
        },
      },
      422,
      'invalid_headers',
    ],
    [
      'a User-Agent header',
      {
        json: { event: 'NewOpportunity', target_url: target('a'), headers: { 'User-Agent': 'x' } },
      },
      422,
      'invalid_headers',
    ],
    [
      'an oversized body',
      {
        json: {
          event: 'NewOpportunity',
          target_url: target('a'),
          headers: { 'X-Big': 'x'.repeat(70_000) },
        },
      },
      413,
      'payload_too_large',
    ],
  ]

  it.each(subscribeCases)('subscribe with %s', async (_name, options, status, code) => {
    expectError(await api.current.call('POST', SUBSCRIBE, options), status, code)
  })

  it('explains what was wrong', async () => {
    const missing = await api.current.call('POST', SUBSCRIBE, { json: { event: 'NewOpportunity' } })
    expect(missing.json.error.message).toMatch(/target_url.*url, targetUrl, hookUrl, target/)
    const unknown = await api.current.call('POST', SUBSCRIBE, {
      json: { event: 'NewOpportunity', url: target('a'), colour: 'red' },
    })
    expect(unknown.json.error).toMatchObject({ field: 'colour' })
    expect(unknown.json.error.message).toContain("'colour'")
    const wrongType = await api.current.call('POST', SUBSCRIBE, {
      json: { event: 7, url: target('a') },
    })
    expect(wrongType.json.error.message).toContain("'event'")
    const tooBig = await api.current.call('POST', SUBSCRIBE, {
      body: 'x'.repeat(70_000),
      headers: JSON_TYPE,
    })
    expect(tooBig.json.error.message).toContain('65536 bytes')
  })

  it('refuses malformed paths, unknown routes and bodies on body-less routes', async () => {
    const id = await anySubscriptionId()
    expectError(
      await api.current.call('GET', '/api/v1/webhooks/subscriptions/%E0%A4%A'),
      400,
      'invalid_path',
    )
    expectError(
      await api.current.call('GET', `/api/v1/webhooks/subscriptions/${'x'.repeat(500)}`),
      414,
      'path_too_long',
    )
    expectError(await api.current.call('GET', '/api/v1/nothing-here'), 404, 'not_found')
    expectError(await api.current.call('PUT', SUBSCRIBE, { json: {} }), 404, 'not_found')
    expectError(
      await api.current.call('DELETE', `/api/v1/webhooks/subscriptions/${id}`, {
        json: { reason: 'x' },
      }),
      422,
      'unknown_field',
    )
    expectError(
      await api.current.call('POST', `/api/v1/webhooks/subscriptions/${id}/rotate-secret`, {
        json: [1, 2],
      }),
      422,
      'invalid_request',
    )
    expectError(
      await api.current.call('POST', `/api/v1/webhooks/subscriptions/${id}/rotate-secret`, {
        body: 'now',
        headers: { 'content-type': 'text/plain' },
      }),
      415,
      'unsupported_media_type',
    )
  })

  it('keeps the error shape for bad query strings', async () => {
    expectError(
      await api.current.call('GET', '/api/v1/deliveries?status=nope'),
      422,
      'invalid_status',
    )
    expectError(await api.current.call('GET', '/api/v1/deliveries?limit=0'), 422, 'invalid_request')
    expectError(await api.current.call('GET', '/api/v1/deliveries?x=1'), 422, 'unknown_field')
    expectError(
      await api.current.call('GET', '/api/v1/deliveries/dlv_nope'),
      404,
      'delivery_not_found',
    )
  })
})
