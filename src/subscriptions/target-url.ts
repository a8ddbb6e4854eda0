import { ValidationError } from '../errors.ts'

const MAX_URL_LENGTH = 2048

/** A target URL must be absolute http(s), without credentials or fragment. Returns it normalised. */
export function checkTargetUrl(value: string): string {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new ValidationError(
      'invalid_target_url',
      `target_url '${value}' is not an absolute URL: give one like https://example.com/hooks`,
    )
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ValidationError(
      'invalid_target_url',
      `target_url '${value}' uses ${url.protocol.replace(':', '')}: only http and https targets can receive webhooks`,
    )
  if (url.username || url.password)
    throw new ValidationError(
      'invalid_target_url',
      `target_url must not carry credentials: send them as a header instead (headers: {"Authorization": "…"})`,
    )
  if (value.length > MAX_URL_LENGTH)
    throw new ValidationError(
      'invalid_target_url',
      `target_url is ${value.length} characters long; the limit is ${MAX_URL_LENGTH}`,
    )
  return url.href
}

/** Headers Hookline sets itself on every delivery; a subscription cannot override them. */
const RESERVED_HEADERS = new Set([
  'content-type',
  'content-length',
  'host',
  'user-agent',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'transfer-encoding',
  'connection',
])
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/** Static headers sent with every delivery of a subscription (e.g. `Authorization`). */
export function checkHeaders(headers: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (!TOKEN.test(name))
      throw new ValidationError(
        'invalid_headers',
        `header name '${name}' is not a valid HTTP header name`,
      )
    if (RESERVED_HEADERS.has(name.toLowerCase()))
      throw new ValidationError(
        'invalid_headers',
        `header '${name}' is set by Hookline on every delivery and cannot be overridden`,
      )
    if (typeof value !== 'string' || /[\r\n\0]/.test(value))
      throw new ValidationError(
        'invalid_headers',
        `header '${name}' must be a string without line breaks`,
      )
    out[name] = value
  }
  return out
}
