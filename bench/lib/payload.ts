import { createHmac, randomBytes } from 'node:crypto'

/**
 * The row every writer inserts and the data every sender delivers: `ts` is the writer's
 * commit time (epoch ms), which the receiver subtracts from its receipt time.
 */
export interface BenchRowData {
  readonly id: number | string
  readonly ts: number
  readonly payload: string
}

/** About 200 bytes of row data, like a small CRM record. */
export const ROW_PAYLOAD = 'x'.repeat(160)

/** A Standard Webhooks envelope, built the way Hookline builds it. */
export function envelopeBody(id: string, type: string, at: number, data: unknown): string {
  return JSON.stringify({ id, type, timestamp: new Date(at).toISOString(), data })
}

export function messageId(): string {
  return `msg_${randomBytes(12).toString('hex')}`
}

/** A `whsec_` secret, as Hookline generates them. */
export function newSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`
}

const keys = new Map<string, Buffer>()

/** Standard Webhooks headers for one attempt (HMAC-SHA256 of `id.timestamp.body`). */
export function signedHeaders(secret: string, id: string, body: string): Record<string, string> {
  let key = keys.get(secret)
  if (!key) {
    key = Buffer.from(secret.slice('whsec_'.length), 'base64')
    keys.set(secret, key)
  }
  const ts = Math.floor(Date.now() / 1000)
  const sig = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64')
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(ts),
    'webhook-signature': `v1,${sig}`,
  }
}
