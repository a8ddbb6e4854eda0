import { ValidationError } from '../../errors.ts'

/** A `?limit=` value within bounds. */
export function parseLimit(value: string | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new ValidationError(
      'invalid_request',
      `limit must be a whole number from 1 to ${max}, not '${value}'`,
      { field: 'limit' },
    )
  return n
}
