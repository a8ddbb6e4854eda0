/**
 * Every error Hookline raises on purpose carries a stable `code` (snake_case) that the
 * HTTP layer maps to a status in one place (`api/error-status.ts`), and a message that
 * quotes the bad value and says how to fix it.
 */
export class HooklineError extends Error {
  readonly code: string
  readonly details: Record<string, unknown> | undefined

  constructor(
    code: string,
    message: string,
    options?: { cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'HooklineError'
    this.code = code
    this.details = options?.details
  }
}

/** A project file or setting that Hookline refuses to start with. */
export class ConfigError extends HooklineError {
  constructor(message: string, options?: { cause?: unknown; file?: string }) {
    super('invalid_config', message, {
      cause: options?.cause,
      details: options?.file ? { file: options.file } : undefined,
    })
    this.name = 'ConfigError'
  }
}

/** Input from an API client or the CLI that cannot be accepted as it is. */
export class ValidationError extends HooklineError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(code, message, { details })
    this.name = 'ValidationError'
  }
}

/** A resource that does not exist (subscription, delivery, event). */
export class NotFoundError extends HooklineError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(code, message, { details })
    this.name = 'NotFoundError'
  }
}

/** Thrown by a delivery step to say: do not try this message again. */
export class NonRetriableError extends HooklineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('non_retriable', message, options)
    this.name = 'NonRetriableError'
  }
}

/** Thrown by a delivery step to say: try again, but not before `retryAfterMs`. */
export class RetryAfterError extends HooklineError {
  readonly retryAfterMs: number
  constructor(message: string, retryAfterMs: number, options?: { cause?: unknown }) {
    super('retry_after', message, options)
    this.name = 'RetryAfterError'
    this.retryAfterMs = retryAfterMs
  }
}

/** Anything thrown, as an Error. */
export function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(String(thrown))
}
