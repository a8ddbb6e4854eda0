import { createHmac, randomBytes } from 'node:crypto'

const SECRET_PREFIX = 'whsec_'
const keyCache = new Map<string, Buffer>()

function keyOf(secret: string): Buffer {
  let key = keyCache.get(secret)
  if (!key) {
    key = Buffer.from(
      secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret,
      'base64',
    )
    if (keyCache.size > 10_000) keyCache.clear()
    keyCache.set(secret, key)
  }
  return key
}

/** A new signing secret: 24 random bytes, base64, with the Standard Webhooks `whsec_` prefix. */
export function generateSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(24).toString('base64')}`
}

/**
 * The `webhook-signature` header value: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`
 * for each secret, space-separated (several while a rotated secret is in its grace period).
 */
export function signatureHeader(
  secrets: readonly string[],
  msgId: string,
  timestampSec: number,
  body: string,
): string {
  const content = `${msgId}.${timestampSec}.${body}`
  return secrets
    .map((s) => `v1,${createHmac('sha256', keyOf(s)).update(content).digest('base64')}`)
    .join(' ')
}
