import { Agent, request } from 'undici'
import { signatureHeader } from '../signing/standard-webhooks.ts'
import type { DeliveryJob } from '../storage/types.ts'
import type { TargetPolicy } from './target-policy.ts'

/** At most this much of a response body is read and kept in the attempt log. */
export const RESPONSE_BODY_LIMIT = 64 * 1024

export interface SendOptions {
  /** Where deliveries may go; checked on the resolved address at connect time. */
  readonly policy: TargetPolicy
  /** The whole attempt (connect, headers, body) must finish within this. */
  readonly timeoutMs: number
  /** Keep-alive connections per target origin. */
  readonly connectionsPerOrigin: number
  /** The `user-agent` header (`USER_AGENT`). */
  readonly userAgent: string
}

/** The response headers that decide an attempt's outcome (`interpretResponse`). */
export const CONTROL_HEADERS = ['webhook-delivery', 'retry-after'] as const

export interface SendResult {
  readonly statusCode: number | null
  /** Those of `CONTROL_HEADERS` the response had: no others travel back from the sending thread. */
  readonly headers: Partial<Record<(typeof CONTROL_HEADERS)[number], string | string[]>>
  readonly body: string | null
  /** A network error or timeout; null when a response arrived. */
  readonly error: string | null
  /** The target policy refused the address: retrying cannot help. */
  readonly refused?: boolean
  readonly durationMs: number
}

/**
 * POSTs signed deliveries over pooled keep-alive connections (undici). Redirects are not
 * followed: a 3xx is a failed attempt. Reads at most 64 KiB of the response body.
 */
export class HttpSender {
  readonly #agent: Agent

  constructor(private readonly options: SendOptions) {
    this.#agent = new Agent({
      connections: options.connectionsPerOrigin,
      keepAliveTimeout: 30_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connect: { timeout: Math.min(options.timeoutMs, 10_000), lookup: options.policy.lookup },
    })
  }

  async send(job: DeliveryJob, nowMs: number): Promise<SendResult> {
    const timestamp = Math.floor(nowMs / 1000)
    const started = performance.now()
    const elapsed = () => Math.round(performance.now() - started)
    const refusal = this.options.policy.checkLiteral(job.targetUrl)
    if (refusal)
      return {
        statusCode: null,
        headers: {},
        body: null,
        error: refusal,
        refused: true,
        durationMs: 0,
      }
    // One timer per attempt, cleared when it ends: AbortSignal.timeout's would outlive the
    // attempt by the whole timeout, and at thousands of attempts a second the pile of
    // pending timers filled the old generation.
    const abort = new AbortController()
    const timer = setTimeout(
      () => abort.abort(new DOMException('the attempt timed out', 'TimeoutError')),
      this.options.timeoutMs,
    )
    try {
      const res = await request(job.targetUrl, {
        method: 'POST',
        dispatcher: this.#agent,
        signal: abort.signal,
        headers: {
          ...job.headers,
          'content-type': 'application/json',
          'user-agent': this.options.userAgent,
          'webhook-id': job.messageId,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signatureHeader(job.secrets, job.messageId, timestamp, job.body),
        },
        body: job.body,
      })
      const body = await readCapped(res.body)
      return {
        statusCode: res.statusCode,
        headers: controlHeaders(res.headers),
        body,
        error: null,
        durationMs: elapsed(),
      }
    } catch (error) {
      return {
        statusCode: null,
        headers: {},
        body: null,
        error: describeError(error),
        refused: errorCode(error) === 'ETARGETREFUSED',
        durationMs: elapsed(),
      }
    } finally {
      clearTimeout(timer)
    }
  }

  async close(): Promise<void> {
    await this.#agent.close()
  }
}

/**
 * The first 64 KiB of a response body. A huge or endless body is cut; one that stalls is
 * ended by the attempt's timeout. Either way the status line already said how the
 * receiver took the delivery, so what was read is kept and the outcome stands.
 */
async function readCapped(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of body) {
      chunks.push(chunk)
      size += chunk.length
      if (size >= RESPONSE_BODY_LIMIT) break
    }
  } catch {
    // Timed out or reset while reading the body: keep what arrived.
  } finally {
    body.destroy()
  }
  return Buffer.concat(chunks).subarray(0, RESPONSE_BODY_LIMIT).toString('utf8')
}

function controlHeaders(all: Record<string, string | string[] | undefined>): SendResult['headers'] {
  const kept: { -readonly [K in keyof SendResult['headers']]: string | string[] } = {}
  for (const name of CONTROL_HEADERS) {
    const value = all[name]
    if (value !== undefined) kept[name] = value
  }
  return kept
}

function errorCode(error: unknown): string | undefined {
  const e = error as { code?: string; cause?: { code?: string } } | undefined
  return e?.code ?? e?.cause?.code
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const code = errorCode(error)
  if (
    error.name === 'TimeoutError' ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT'
  )
    return `timeout: no complete response in time (${code ?? error.name})`
  return code ? `${code}: ${error.message}` : error.message
}
