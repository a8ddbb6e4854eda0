import { createHash, timingSafeEqual } from 'node:crypto'
import { HooklineError } from '../errors.ts'

const digest = (key: string) => createHash('sha256').update(key).digest()

/** Checks `Authorization: Bearer <key>` against the configured keys, in constant time. */
export function bearerAuth(
  apiKeys: readonly string[],
): (authorization: string | undefined) => void {
  const digests = apiKeys.map(digest)
  return (authorization) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')
    if (!match)
      throw new HooklineError(
        'unauthorized',
        'missing API key: send the header Authorization: Bearer <api key>',
      )
    const given = digest(match[1]!)
    if (!digests.some((d) => timingSafeEqual(d, given)))
      throw new HooklineError(
        'unauthorized',
        'the API key is not valid: check the key Hookline printed at start or HOOKLINE_API_KEY',
      )
  }
}
