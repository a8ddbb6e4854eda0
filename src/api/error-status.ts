import { HooklineError } from '../errors.ts'

/** The one place where error codes become HTTP statuses. */
const STATUS_BY_CODE: Record<string, number> = {
  unauthorized: 401,
  not_found: 404,
  unknown_event: 404,
  subscription_not_found: 404,
  delivery_not_found: 404,
  invalid_json: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  invalid_request: 422,
  unknown_field: 422,
  invalid_target_url: 422,
  delivery_in_flight: 409,
  target_not_allowed: 422,
  invalid_headers: 422,
  invalid_status: 422,
  missing_row_id: 422,
  method_not_allowed: 405,
  invalid_path: 400,
  path_too_long: 414,
}

/** Fastify's own errors, renamed into Hookline's codes. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
  FST_ERR_BAD_URL: 'invalid_path',
  FST_ERR_MAX_PARAM_LENGTH: 'path_too_long',
}

const FRIENDLY_MESSAGES: Record<string, string> = {
  invalid_json:
    'the request body is not valid JSON: send a JSON object with content-type: application/json',
  unsupported_media_type: 'send the body as JSON with content-type: application/json',
  invalid_path: 'the path is not valid: check its percent-encoding',
  path_too_long: 'a path segment is too long: ids and event names are at most 100 characters',
}

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string } & Record<string, unknown>
}

/** Maps any thrown value to a status and the JSON error shape; unknown errors become a bare 500. */
export function toErrorResponse(
  error: unknown,
  bodyLimit: number,
): { status: number; body: ErrorBody; internal: boolean } {
  if (error instanceof HooklineError) {
    const status = STATUS_BY_CODE[error.code] ?? (error.code === 'invalid_config' ? 500 : 400)
    return {
      status,
      body: { error: { code: error.code, message: error.message, ...(error.details ?? {}) } },
      internal: status >= 500,
    }
  }
  const e = error as { code?: string; statusCode?: number; message?: string }
  const mapped = e.code ? FASTIFY_CODES[e.code] : undefined
  if (mapped) {
    const message =
      mapped === 'payload_too_large'
        ? `the request body is larger than ${bodyLimit} bytes`
        : (FRIENDLY_MESSAGES[mapped] ?? e.message ?? mapped)
    return {
      status: STATUS_BY_CODE[mapped]!,
      body: { error: { code: mapped, message } },
      internal: false,
    }
  }
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    return {
      status: e.statusCode,
      body: { error: { code: 'bad_request', message: e.message ?? 'bad request' } },
      internal: false,
    }
  }
  return {
    status: 500,
    body: {
      error: {
        code: 'internal_error',
        message: 'Hookline hit an unexpected error; the details are in its log',
      },
    },
    internal: true,
  }
}
