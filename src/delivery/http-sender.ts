import { Agent, type Dispatcher } from 'undici'
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
 * POSTs signed deliveries over pooled keep-alive connections (undici's `dispatch`, which
 * hands each response to one small handler: no stream, abort signal or promise chain per
 * attempt, half the CPU of `request` per delivery). Redirects are not followed: a 3xx is a
 * failed attempt. Keeps at most 64 KiB of the response body.
 */
export class HttpSender {
  readonly #agent: Agent
  /** Each target URL's origin and path, and whether the policy refuses it as written. */
  readonly #targets = new Map<string, Target>()

  constructor(private readonly options: SendOptions) {
    this.#agent = new Agent({
      connections: options.connectionsPerOrigin,
      keepAliveTimeout: 30_000,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connect: { timeout: Math.min(options.timeoutMs, 10_000), lookup: options.policy.lookup },
    })
  }

  send(job: DeliveryJob, nowMs: number): Promise<SendResult> {
    const target = this.#target(job.targetUrl)
    if ('error' in target)
      return Promise.resolve({
        statusCode: null,
        headers: {},
        body: null,
        error: target.error,
        refused: target.refused,
        durationMs: 0,
      })
    const timestamp = Math.floor(nowMs / 1000)
    const headers = {
      ...job.headers,
      'content-type': 'application/json',
      'user-agent': this.options.userAgent,
      'webhook-id': job.messageId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signatureHeader(job.secrets, job.messageId, timestamp, job.body),
    }
    return new Promise((resolve) => {
      this.#agent.dispatch(
        { origin: target.origin, path: target.path, method: 'POST', headers, body: job.body },
        new Attempt(resolve, this.options.timeoutMs),
      )
    })
  }

  #target(url: string): Target {
    let target = this.#targets.get(url)
    if (!target) {
      target = parseTarget(url, this.options.policy)
      if (this.#targets.size >= 10_000) this.#targets.clear()
      this.#targets.set(url, target)
    }
    return target
  }

  async close(): Promise<void> {
    await this.#agent.close()
  }
}

type Target =
  | { readonly origin: string; readonly path: string }
  | { readonly error: string; readonly refused: boolean }

function parseTarget(url: string, policy: TargetPolicy): Target {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return { error: `invalid target URL '${url}'`, refused: false }
  }
  const refusal = policy.checkLiteral(parsed)
  if (refusal) return { error: refusal, refused: true }
  return { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` }
}

/**
 * One attempt, as undici's handler: keeps the status, the control headers and the first
 * 64 KiB of the body, and settles once. The whole attempt is bounded by one timer, cleared
 * when it settles. Once the status line has arrived it decides the outcome: a body cut at
 * 64 KiB, or ended by the timeout or a reset, keeps what was read.
 */
class Attempt implements Dispatcher.DispatchHandler {
  readonly #started = performance.now()
  readonly #timer: NodeJS.Timeout
  #controller: Dispatcher.DispatchController | null = null
  #abortReason: Error | null = null
  #statusCode: number | null = null
  #headers: SendResult['headers'] = {}
  readonly #chunks: Buffer[] = []
  #size = 0
  #settled = false

  constructor(
    private readonly resolve: (result: SendResult) => void,
    timeoutMs: number,
  ) {
    this.#timer = setTimeout(
      () => this.#abort(new DOMException('the attempt timed out', 'TimeoutError')),
      timeoutMs,
    )
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller
    // Timed out while waiting for a connection.
    if (this.#abortReason) controller.abort(this.#abortReason)
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    this.#statusCode = statusCode
    this.#headers = controlHeaders(headers)
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#settled) return
    this.#chunks.push(chunk)
    this.#size += chunk.length
    // Enough: the rest is not read (the connection is closed, not reused).
    if (this.#size >= RESPONSE_BODY_LIMIT) this.#finish(null)
  }

  onResponseEnd(): void {
    this.#finish(null)
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    // After the status line an error only cuts the body short: keep what arrived.
    this.#finish(this.#statusCode === null ? error : null)
  }

  #abort(reason: Error): void {
    this.#abortReason = reason
    this.#controller?.abort(reason)
  }

  #finish(error: Error | null): void {
    if (this.#settled) return
    this.#settled = true
    clearTimeout(this.#timer)
    const durationMs = Math.round(performance.now() - this.#started)
    if (error) {
      this.resolve({
        statusCode: null,
        headers: {},
        body: null,
        error: describeError(error),
        refused: errorCode(error) === 'ETARGETREFUSED',
        durationMs,
      })
      return
    }
    if (this.#size >= RESPONSE_BODY_LIMIT) this.#abort(new Error('response body limit reached'))
    this.resolve({
      statusCode: this.#statusCode,
      headers: this.#headers,
      body: Buffer.concat(this.#chunks).subarray(0, RESPONSE_BODY_LIMIT).toString('utf8'),
      error: null,
      durationMs,
    })
  }
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
