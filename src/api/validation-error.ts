import { ValidationError } from '../errors.ts'

interface AjvError {
  instancePath: string
  keyword: string
  params: Record<string, unknown>
  message?: string
}

/** Turns a schema violation into a message a client can act on. */
export function fromSchemaErrors(errors: readonly AjvError[], context: string): ValidationError {
  const e = errors[0]
  if (!e) return new ValidationError('invalid_request', `invalid ${context}`)
  const field = e.instancePath.replace(/^\//, '').replaceAll('/', '.')
  const where = field ? `'${field}' in the ${context}` : `the ${context}`
  switch (e.keyword) {
    case 'additionalProperties':
      return new ValidationError(
        'unknown_field',
        `unknown field '${String(e.params.additionalProperty)}' in the ${context}: remove it`,
        {
          field: e.params.additionalProperty,
        },
      )
    case 'required':
      return new ValidationError(
        'invalid_request',
        `missing field '${String(e.params.missingProperty)}' in the ${context}`,
        {
          field: e.params.missingProperty,
        },
      )
    case 'type':
      return new ValidationError(
        'invalid_request',
        `${where} must be of type ${String(e.params.type)}`,
        field ? { field } : undefined,
      )
    case 'minProperties':
      return new ValidationError(
        'invalid_request',
        `${where} is empty: give at least ${String(e.params.limit)} field(s) to change`,
        field ? { field } : undefined,
      )
    default:
      return new ValidationError(
        'invalid_request',
        `${where} ${e.message ?? 'is invalid'}`,
        field ? { field } : undefined,
      )
  }
}
