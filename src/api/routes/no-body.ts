import type { FastifyRequest } from 'fastify'
import { ValidationError } from '../../errors.ts'

/**
 * A `preValidation` hook for routes that take no body: none, or `{}` as some clients send,
 * is fine; anything else is refused, as unknown fields are everywhere else.
 */
export async function noBody(req: FastifyRequest): Promise<void> {
  const body = req.body
  if (body === undefined) return
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new ValidationError(
      'invalid_request',
      `${req.method} ${req.routeOptions.url} takes no body: send none, or {}`,
    )
  const [field] = Object.keys(body)
  if (field !== undefined)
    throw new ValidationError(
      'unknown_field',
      `unknown field '${field}' in the body: ${req.method} ${req.routeOptions.url} takes no body`,
      { field },
    )
}
