import { resolve } from 'node:path'
import type { Logger } from 'pino'
import { ConfigError } from '../errors.ts'
import { openSqliteStore } from './sqlite/sqlite-store.ts'
import type { Store } from './store.ts'

/** The URL with any password replaced, for logs and error messages. */
export function redactUrl(url: string): string {
  // Up to the last '@' before the query: a password may hold an unescaped '@' or '/'.
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@?#]*):[^?#]*@/i, '$1:***@')
}

/** The SQLite file a `sqlite:` URL names, resolved against `baseDir`. */
export function sqliteFilename(url: string, baseDir: string): string {
  const path = url.replace(/^sqlite:(\/\/(?=\/))?/, '')
  if (path === ':memory:') return path
  if (path === '')
    throw new ConfigError(`database URL '${url}' names no file: use sqlite:./data/hookline.db`)
  return resolve(baseDir, path)
}

export interface OpenStoreOptions {
  /** Where relative SQLite paths start from. */
  readonly baseDir?: string
  readonly postgres?: { readonly schema?: string; readonly poolSize?: number }
  /** Told about the database's connection (PostgreSQL: lost, back). */
  readonly logger?: Logger
}

/**
 * Opens the store a database URL names: `sqlite:path/to/file.db` or
 * `postgres://user@host:5432/db`.
 */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (url.startsWith('sqlite:'))
    return openSqliteStore({ filename: sqliteFilename(url, options.baseDir ?? process.cwd()) })
  if (/^postgres(ql)?:\/\//.test(url)) {
    const { openPostgresStore } = await import('./postgres/postgres-store.ts')
    return openPostgresStore({
      url,
      ...options.postgres,
      ...(options.logger ? { logger: options.logger } : {}),
    })
  }
  throw new ConfigError(
    `database URL '${redactUrl(url)}' is not understood: use sqlite:./data/hookline.db or postgres://user@host:5432/dbname`,
  )
}
