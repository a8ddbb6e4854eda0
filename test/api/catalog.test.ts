import { describe, expect, it } from 'vitest'
import { dealSample } from '../../examples/crm/payloads.ts'
import { expectError, useApi } from './harness.ts'

const api = useApi()

const DEMO_EVENTS = [
  'NewCompany',
  'NewContact',
  'NewOpportunity',
  'OpportunityDeleted',
  'OpportunityUpdated',
  'OpportunityWon',
]

describe('event catalog', () => {
  it('GET /api/v1/events lists every event with name, description, table, schema, sample', async () => {
    const res = await api.current.call('GET', '/api/v1/events')
    expect(res.status).toBe(200)
    const names = res.json.map((e: { name: string }) => e.name)
    expect(names).toEqual(expect.arrayContaining(DEMO_EVENTS))
    expect(names).toEqual([...names].sort())
    for (const event of res.json) {
      expect(Object.keys(event).sort()).toEqual([
        'description',
        'name',
        'sample',
        'schema',
        'table',
      ])
      expect(event.description).toEqual(expect.any(String))
      expect(event.description.length).toBeGreaterThan(0)
    }
  })

  it('GET /api/v1/events/{event} describes one event', async () => {
    const res = await api.current.call('GET', '/api/v1/events/NewOpportunity')
    expect(res.status).toBe(200)
    expect(res.json).toEqual({
      name: 'NewOpportunity',
      description: 'A deal that is a project was created',
      table: 'deal',
      schema: null,
      sample: dealSample,
    })
  })

  it('404s an unknown event with the known ones', async () => {
    const res = await api.current.call('GET', '/api/v1/events/newopportunity')
    expectError(res, 404, 'unknown_event')
    expect(res.json.error.known_events).toEqual(expect.arrayContaining(DEMO_EVENTS))
  })
})

describe('GET /openapi.json', () => {
  it('is an OpenAPI 3.1 document of every route, served without an API key', async () => {
    const res = await api.current.call('GET', '/openapi.json', { anonymous: true })
    expect(res.status).toBe(200)
    expect(String(res.headers['content-type'])).toMatch(/^application\/json/)
    const doc = JSON.parse(res.text)
    expect(doc.openapi).toBe('3.1.0')
    expect(doc.info).toMatchObject({ title: 'Hookline API', version: expect.any(String) })
    expect(doc.components.securitySchemes.bearerAuth).toEqual({ type: 'http', scheme: 'bearer' })
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/healthz',
        '/readyz',
        '/openapi.json',
        '/api/v1/webhooks/subscribe',
        '/api/v1/webhooks/unsubscribe',
        '/api/v1/webhooks/subscriptions',
        '/api/v1/webhooks/subscriptions/{id}',
        '/api/v1/webhooks/subscriptions/{id}/rotate-secret',
        '/api/v1/webhooks/perform-list/{event}',
        '/api/v1/events',
        '/api/v1/events/{event}',
        '/api/v1/deliveries',
        '/api/v1/deliveries/{id}',
        '/api/v1/deliveries/{id}/retry',
      ]),
    )
    const subscriptionById = doc.paths['/api/v1/webhooks/subscriptions/{id}']
    expect(Object.keys(subscriptionById).sort()).toEqual(['delete', 'get', 'patch'])
  })

  it('describes requests from the schemas the server validates with', async () => {
    const doc = (await api.current.call('GET', '/openapi.json')).json
    const subscribe = doc.paths['/api/v1/webhooks/subscribe'].post
    const body = subscribe.requestBody.content['application/json'].schema
    expect(body.additionalProperties).toBe(false)
    expect(body.required).toEqual(['event'])
    expect(Object.keys(body.properties)).toEqual(
      expect.arrayContaining(['event', 'target_url', 'url', 'targetUrl', 'hookUrl', 'target']),
    )
    expect(Object.keys(subscribe.responses)).toEqual(expect.arrayContaining(['201', '401', '4XX']))

    const performList = doc.paths['/api/v1/webhooks/perform-list/{event}'].get
    expect(performList.parameters).toEqual([
      expect.objectContaining({ name: 'event', in: 'path', required: true }),
      expect.objectContaining({ name: 'limit', in: 'query', required: false }),
    ])
    expect(performList.responses['200'].content['application/json'].schema.type).toBe('array')

    expect(doc.paths['/healthz'].get.security).toEqual([])
    expect(doc.paths['/api/v1/events'].get.security).toBeUndefined()

    // Every operation has a unique id and every $ref resolves.
    const operations = Object.values(doc.paths).flatMap((p) => Object.values(p as object))
    const opIds = operations.map((o) => o.operationId)
    expect(new Set(opIds).size).toBe(opIds.length)
    for (const ref of refsIn(doc)) {
      const target = ref
        .replace(/^#\//, '')
        .split('/')
        .reduce((node: any, key) => node?.[key], doc)
      expect(target, ref).toBeDefined()
    }
  })
})

/** Every `$ref` in a JSON document. */
function refsIn(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(refsIn)
  if (node && typeof node === 'object')
    return Object.entries(node).flatMap(([k, v]) => (k === '$ref' ? [String(v)] : refsIn(v)))
  return []
}
