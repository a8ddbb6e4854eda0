import { createHash, randomBytes } from 'node:crypto'

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

// Random bytes drawn a few kilobytes at a time: one system call per 256 ids, not per id
// (a busy batch makes thousands of ids).
const POOL_SIZE = 4096
let pool = randomBytes(POOL_SIZE)
let offset = 0

function encode(bytes: Uint8Array, from: number, count: number): string {
  let out = ''
  for (let i = from; i < from + count; i++) out += ALPHABET[bytes[i]! % 32]
  return out
}

function encodeRandom(bytes: number): string {
  if (offset + bytes > POOL_SIZE) {
    pool = randomBytes(POOL_SIZE)
    offset = 0
  }
  const out = encode(pool, offset, bytes)
  offset += bytes
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

/**
 * An id shaped like `newId`'s whose 16 characters after the time come from `key`
 * (SHA-256) instead of chance: the same prefix, time and key make the same id in any
 * process, at any time.
 *
 * @example derivedId('msg', change.createdAt, `${seed}:${change.id}:0:contact.created`)
 */
export function derivedId(prefix: string, at: number, key: string): string {
  return `${prefix}_${encodeTime(at)}${encode(createHash('sha256').update(key).digest(), 0, 16)}`
}
