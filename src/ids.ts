import { randomBytes } from 'node:crypto'

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz' // Crockford base32, lower case

function encodeTime(ms: number): string {
  let out = ''
  let t = ms
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32] + out
    t = Math.floor(t / 32)
  }
  return out
}

function encodeRandom(bytes: number): string {
  const buf = randomBytes(bytes)
  let out = ''
  for (const b of buf) out += ALPHABET[b % 32]
  return out
}

/**
 * Time-ordered unique ids with a type prefix (`msg_`, `sub_`, `dlv_`): sortable like
 * ULIDs, readable in logs, and unique across processes sharing one database.
 *
 * @example newId('msg') // 'msg_01jd3k…'
 */
export function newId(prefix: string, now: number = Date.now()): string {
  return `${prefix}_${encodeTime(now)}${encodeRandom(16)}`
}
