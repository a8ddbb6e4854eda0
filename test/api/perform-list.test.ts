import { describe, expect, it } from 'vitest'
import { dealSample } from '../../examples/crm/payloads.ts'
import { startReceiver } from '../helpers/receiver.ts'
import { expectError, useApi } from './harness.ts'

const api = useApi()
const PERFORM_LIST = '/api/v1/webhooks/perform-list'

interface Envelope {
  id: string
  type: string
  timestamp: string
  data: { id: number; name: string; is_project: boolean }
}

const insertDeal = (name: string, isProject: 0 | 1) =>
  Number(
    api.current.sql(
      'INSERT INTO deal (name, amount, stage, is_project, company_id, contact_id) VALUES (?, 5000, ?, ?, 1, 1)',
      name,
      'lead',
      isProject,
    ).lastInsertRowid,
  )

describe('GET /api/v1/webhooks/perform-list/{event}', () => {
  it('answers a JSON array of envelopes built from the newest rows, newest first', async () => {
    const first = insertDeal('Project one', 1)
    insertDeal('Not a project', 0)
    const second = insertDeal('Project two', 1)

    const res = await api.current.call('GET', `${PERFORM_LIST}/NewOpportunity`)
    expect(res.status).toBe(200)
    expect(String(res.headers['content-type'])).toMatch(/^application\/json/)
    const list = res.json as Envelope[]
    expect(Array.isArray(list)).toBe(true)
    for (const item of list) {
      expect(Object.keys(item).sort()).toEqual(['data', 'id', 'timestamp', 'type'])
      expect(item.type).toBe('NewOpportunity')
      expect(new Date(item.timestamp).toISOString()).toBe(item.timestamp)
      expect(item.data.is_project).toBe(true)
    }
    // The builder got the ids of the newest project deals: the seed row (id 1) comes last.
    expect(list.map((e) => e.data.id)).toEqual([second, first, 1])
    expect(list[0]!.data.name).toBe('Project two')
    // Ids are unique per row and stable between calls (clients de-duplicate samples by id).
    expect(new Set(list.map((e) => e.id)).size).toBe(list.length)
    const again = await api.current.call('GET', `${PERFORM_LIST}/NewOpportunity`)
    expect(again.json.map((e: Envelope) => e.id)).toEqual(list.map((e) => e.id))
  })

  it('honours ?limit=', async () => {
    for (let i = 0; i < 5; i++) insertDeal(`Project ${i}`, 1)
    const one = await api.current.call('GET', `${PERFORM_LIST}/NewOpportunity?limit=1`)
    expect(one.json).toHaveLength(1)
    expect(one.json[0].data.name).toBe('Project 4')
    const four = await api.current.call('GET', `${PERFORM_LIST}/NewOpportunity?limit=4`)
    expect(four.json.map((e: Envelope) => e.data.name)).toEqual([
      'Project 4',
      'Project 3',
      'Project 2',
      'Project 1',
    ])
    const fallback = await api.current.call('GET', `${PERFORM_LIST}/NewOpportunity`)
    expect(fallback.json).toHaveLength(3)
  })

  it("falls back to the event's sample when its table has no rows", async () => {
    api.current.sql('DELETE FROM deal')
    const res = await api.current.call('GET', `${PERFORM_LIST}/NewOpportunity`)
    expect(res.status).toBe(200)
    expect(res.json).toEqual([
      {
        id: expect.stringMatching(/^msg_/),
        type: 'NewOpportunity',
        timestamp: expect.any(String),
        data: dealSample,
      },
    ])
  })

  it('serves the sample for events whose rows do not match either', async () => {
    // Only non-project deals: NewOpportunity has nothing to build from.
    api.current.sql('UPDATE deal SET is_project = 0')
    const res = await api.current.call('GET', `${PERFORM_LIST}/NewOpportunity?limit=10`)
    expect(res.json.map((e: Envelope) => e.data)).toEqual([dealSample])
  })

  it('has the shape and data of a live delivery of the same row', async () => {
    const receiver = await startReceiver()
    try {
      const sub = await api.current.call('POST', '/api/v1/webhooks/subscribe', {
        json: { event: 'NewOpportunity', target_url: receiver.url },
      })
      expect(sub.status).toBe(201)
      const id = insertDeal('Live deal', 1)
      await api.current.hookline.drain()
      const [delivery] = await receiver.waitFor(1)
      const live = JSON.parse(delivery!.body) as Envelope

      const [sample] = (await api.current.call('GET', `${PERFORM_LIST}/NewOpportunity?limit=1`))
        .json as Envelope[]
      expect(Object.keys(sample!).sort()).toEqual(Object.keys(live).sort())
      expect(sample!.type).toBe(live.type)
      expect(sample!.data).toEqual(live.data)
      expect(sample!.data.id).toBe(id)
    } finally {
      await receiver.close()
    }
  })

  it('404s an unknown event, listing the known ones', async () => {
    const res = await api.current.call('GET', `${PERFORM_LIST}/NewOportunity`)
    expectError(res, 404, 'unknown_event')
    expect(res.json.error.known_events).toContain('NewOpportunity')
  })

  it.each(['0', '-1', '101', '1.5', 'abc', '', '1e2', '99999999999999999999'])(
    'refuses ?limit=%s with 422',
    async (limit) => {
      const res = await api.current.call('GET', `${PERFORM_LIST}/NewOpportunity?limit=${limit}`)
      expectError(res, 422, 'invalid_request')
      expect(res.json.error.message).toContain('limit')
    },
  )

  it('refuses unknown query parameters', async () => {
    const res = await api.current.call('GET', `${PERFORM_LIST}/NewOpportunity?count=3`)
    expectError(res, 422, 'unknown_field')
  })
})
