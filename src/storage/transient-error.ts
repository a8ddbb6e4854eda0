/** Node and SQLite error codes that say "try again", not "this is wrong". */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
])
/** PostgreSQL SQLSTATE classes: connection, transaction rollback, resources, operator intervention. */
const TRANSIENT_SQLSTATE_CLASSES = new Set(['08', '40', '53', '57'])

/**
 * Whether an error comes from the database being briefly unavailable (a restart, a lock, a
 * dropped connection) rather than from the data or the code: such a failure is retried,
 * never recorded against the change or delivery it happened to hit.
 */
export function isTransientError(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null
  const code = typeof e?.code === 'string' ? e.code : ''
  if (TRANSIENT_CODES.has(code)) return true
  if (/^[0-9A-Z]{5}$/.test(code) && TRANSIENT_SQLSTATE_CLASSES.has(code.slice(0, 2))) return true
  const message = typeof e?.message === 'string' ? e.message : ''
  return /Connection terminated|timeout exceeded when trying to connect|database is locked/i.test(
    message,
  )
}
