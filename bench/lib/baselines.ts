import { Agent, request } from 'undici'
import { envelopeBody, messageId, ROW_PAYLOAD, signedHeaders } from './payload.ts'

/** A subscriber of a do-it-yourself baseline: where to POST and the secret to sign with. */
export interface BaselineSub {
  readonly url: string
  readonly secret: string
}

/** One delivery job: everything the worker needs to send it. */
export interface DeliveryJobData {
  readonly url: string
  readonly secret: string
  readonly id: string
  readonly body: string
}

export const PG_BOSS_QUEUE = 'webhook-delivery'

export const bullmqConnection = () => ({
  host: '127.0.0.1',
  port: 6379,
  maxRetriesPerRequest: null,
})

/** One row's message, built once, as one job per subscriber. */
export function jobsFor(
  subs: readonly BaselineSub[],
  rowId: number | string,
  ts: number,
): DeliveryJobData[] {
  const id = messageId()
  const body = envelopeBody(id, 'BenchRow', Date.now(), {
    id: Number(rowId),
    ts,
    payload: ROW_PAYLOAD,
  })
  return subs.map((s) => ({ url: s.url, secret: s.secret, id, body }))
}

/**
 * What a do-it-yourself worker does per job: sign, POST with a timeout, read the answer,
 * throw on a non-2xx so the queue retries.
 */
export function makeSender(connections: number) {
  const agent = new Agent({ connections, keepAliveTimeout: 30_000 })
  return {
    async send(job: DeliveryJobData): Promise<void> {
      const res = await request(job.url, {
        method: 'POST',
        dispatcher: agent,
        headers: signedHeaders(job.secret, job.id, job.body),
        body: job.body,
        signal: AbortSignal.timeout(15_000),
      })
      await res.body.text()
      if (res.statusCode < 200 || res.statusCode >= 300)
        throw new Error(`target answered ${res.statusCode}`)
    },
    close: () => agent.close(),
  }
}
