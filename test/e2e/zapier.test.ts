import Database from 'better-sqlite3'
import type { FastifyInstance } from 'fastify'
import { Webhook } from 'standardwebhooks'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Bundle, createAppTester, type ZObject } from 'zapier-platform-core'
import { buildApi } from '../../src/api/build-api.ts'
import type { Hookline } from '../../src/hookline.ts'
import app from '../fixtures/zapier-app/index.ts'
import { demoHookline } from '../helpers/demo.ts'
import { type Receiver, startReceiver } from '../helpers/receiver.ts'
import { tempDbPath, tempDir } from '../helpers/temp.ts'

// Zapier's own SDK (zapier-platform-core) runs the integration in test/fixtures/zapier-app
// against a real Hookline API on 127.0.0.1. The receiver stands in for the hook URL Zapier
// hands to performSubscribe as bundle.targetUrl.

const API_KEY = 'zapier-test-key'
const dir = tempDir()
const appTester = createAppTester(app)

interface Envelope {
  id: string
  type: string
  timestamp: string
  data: { id: number; name: string }
}

interface SubscribeData {
  id: string
  event: string
  target_url: string
  status: string
  secret: string
}

type Perform<T> = (z: ZObject, bundle: Bundle) => Promise<T>
const operation = app.triggers!.new_opportunity!.operation as unknown as {
  performSubscribe: Perform<SubscribeData>
  performUnsubscribe: Perform<{ status: number }>
  perform: Perform<Envelope[]>
  performList: Perform<Envelope[]>
}

let hookline: Hookline
let api: FastifyInstance
let receiver: Receiver
let dbPath: string
let authData: { base_url: string; api_key: string }

beforeEach(async () => {
  dbPath = tempDbPath(dir)
  hookline = await demoHookline(`sqlite:${dbPath}`)
  api = await buildApi(hookline, { apiKeys: [API_KEY] })
  authData = { base_url: await api.listen({ host: '127.0.0.1', port: 0 }), api_key: API_KEY }
  receiver = await startReceiver('/hooks/catch/123/abc')
})

afterEach(async () => {
  await receiver.close()
  await api.close()
  await hookline.stop()
})

/** Inserts a deal through its own connection, as the CRM application would. */
function insertDeal(name: string, isProject: 0 | 1): number {
  const db = new Database(dbPath)
  try {
    return Number(
      db
        .prepare('INSERT INTO deal (name, amount, is_project, company_id) VALUES (?, 900, ?, 1)')
        .run(name, isProject).lastInsertRowid,
    )
  } finally {
    db.close()
  }
}

describe('a Zapier REST Hook trigger on Hookline', () => {
  it('authenticates with the API key, and fails with a wrong one', async () => {
    const events = (await appTester(app.authentication!.test as any, { authData })) as {
      name: string
    }[]
    expect(events.map((e) => e.name)).toContain('NewOpportunity')
    await expect(
      appTester(app.authentication!.test as any, { authData: { ...authData, api_key: 'wrong' } }),
    ).rejects.toThrow(/401/)
  })

  it('subscribes, lists samples, receives a live event through perform, unsubscribes', async () => {
    // performSubscribe: Zapier stores what it returns as bundle.subscribeData.
    const subscribeData = await appTester(operation.performSubscribe, {
      authData,
      targetUrl: receiver.url,
    })
    expect(subscribeData).toMatchObject({
      id: expect.stringMatching(/^sub_/),
      event: 'NewOpportunity',
      target_url: receiver.url,
      status: 'active',
    })
    // Zapier may retry a subscribe it did not see answered: same subscription.
    const retried = await appTester(operation.performSubscribe, {
      authData,
      targetUrl: receiver.url,
    })
    expect(retried.id).toBe(subscribeData.id)

    // performList: samples for the Zap editor, each with the `id` Zapier de-duplicates by.
    const samples = await appTester(operation.performList, { authData })
    expect(samples.length).toBeGreaterThan(0)
    for (const sample of samples) {
      expect(sample.id).toEqual(expect.any(String))
      expect(sample.type).toBe('NewOpportunity')
      expect(sample.data).toHaveProperty('name')
    }

    // A project deal inserted by the application reaches the hook URL, signed.
    const dealId = insertDeal('Zapier-built deal', 1)
    insertDeal('Not a project', 0)
    await hookline.drain()
    const [delivery] = await receiver.waitFor(1)
    expect(receiver.received).toHaveLength(1)
    new Webhook(subscribeData.secret).verify(delivery!.body, {
      'webhook-id': String(delivery!.headers['webhook-id']),
      'webhook-timestamp': String(delivery!.headers['webhook-timestamp']),
      'webhook-signature': String(delivery!.headers['webhook-signature']),
    })

    // perform: Zapier hands the parsed body to the trigger as bundle.cleanedRequest.
    const body = JSON.parse(delivery!.body) as Envelope
    const results = await appTester(operation.perform, {
      authData,
      cleanedRequest: body,
      rawRequest: { method: 'POST', content: delivery!.body, headers: {} },
    })
    expect(results).toHaveLength(1)
    expect(results[0]).toEqual(body)
    expect(results[0]).toMatchObject({
      id: delivery!.headers['webhook-id'],
      type: 'NewOpportunity',
      data: { id: dealId, name: 'Zapier-built deal' },
    })
    // The live event and perform-list agree on the shape and the data of that deal.
    const [newest] = await appTester(operation.performList, { authData })
    expect(Object.keys(newest!).sort()).toEqual(Object.keys(body).sort())
    expect(newest!.data).toEqual(body.data)

    // performUnsubscribe with bundle.subscribeData.id; a retry is fine too.
    expect(await appTester(operation.performUnsubscribe, { authData, subscribeData })).toEqual({
      status: 204,
    })
    expect(await appTester(operation.performUnsubscribe, { authData, subscribeData })).toEqual({
      status: 204,
    })

    insertDeal('After unsubscribe', 1)
    await hookline.drain()
    expect(receiver.received).toHaveLength(1)
    expect(await hookline.store.listSubscriptions({})).toEqual([])
  })
})
