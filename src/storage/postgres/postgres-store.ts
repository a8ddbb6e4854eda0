import { ConfigError } from '../../errors.ts'
import { redactUrl } from '../open-store.ts'
import type { Store } from '../store.ts'

export interface PostgresStoreOptions {
  readonly url: string
  readonly schema?: string
  readonly poolSize?: number
}

export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  throw new ConfigError(
    `PostgreSQL is not supported yet (${redactUrl(options.url)}): use a sqlite: URL`,
  )
}
