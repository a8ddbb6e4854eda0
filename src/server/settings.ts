import { randomBytes } from 'node:crypto'
import { dirname, resolve } from 'node:path'
import type { DatabaseConfig } from '../config/define-config.ts'
import { ConfigError } from '../errors.ts'
import { type OpenStoreOptions, redactUrl } from '../storage/open-store.ts'
import type { Store } from '../storage/store.ts'

export const DEFAULT_DATABASE = 'sqlite:./data/hookline.db'
export const DEFAULT_PORT = 8080
const API_KEY_META = 'bootstrap_api_key'

/** Settings given on the command line; each wins over its HOOKLINE_* variable, which wins over the config. */
export interface CliFlags {
  readonly config?: string
  readonly database?: string
  /** PostgreSQL: the schema of Hookline's tables. */
  readonly schema?: string
  /** PostgreSQL: connections in the pool. */
  readonly poolSize?: string
  readonly port?: string
  readonly host?: string
  readonly allowPrivateTargets?: boolean
}

export interface Settings {
  readonly configFile: string
  readonly database: string
  /** Where a relative SQLite path starts: the config file's folder when the URL came from it. */
  readonly databaseBaseDir: string
  /** PostgreSQL: the schema of Hookline's tables (the store's default `hookline` when unset). */
  readonly databaseSchema: string | undefined
  /** PostgreSQL: connections in the pool (the store's default when unset). */
  readonly poolSize: number | undefined
  readonly port: number
  readonly host: string
  /** HOOKLINE_API_KEY and the config's keys: all of them are accepted. */
  readonly apiKeys: readonly string[]
  /** Loopback and private targets allowed (dev, or explicitly). */
  readonly allowPrivateTargets: boolean
}

function parsePort(value: string, source: string): number {
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError(`${source} is '${value}': give a port number from 0 to 65535`)
  return port
}

function parsePoolSize(value: string | number, source: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > 1000)
    throw new ConfigError(
      `${source} is '${value}': give the number of connections in each process's pool, from 1 to 1000 (default 10)`,
    )
  return n
}

/** The first of flag, environment variable and config value that is set, with its source. */
function pick<T>(
  ...candidates: [value: T | undefined | '', source: string][]
): [T, string] | undefined {
  for (const [value, source] of candidates)
    if (value !== undefined && value !== '') return [value as T, source]
  return undefined
}

/** Resolves flags, then HOOKLINE_* variables, then the config file, then defaults. */
export function resolveSettings(
  flags: CliFlags,
  env: NodeJS.ProcessEnv,
  config: {
    database?: string | DatabaseConfig
    server?: { port?: number; host?: string; apiKeys?: readonly string[] }
    delivery?: { allowPrivateTargets?: boolean }
  },
  defaults: { configFile: string; host: string; allowPrivateTargets?: boolean },
): Settings {
  const port = flags.port
    ? parsePort(flags.port, '--port')
    : env.HOOKLINE_PORT
      ? parsePort(env.HOOKLINE_PORT, 'HOOKLINE_PORT')
      : (config.server?.port ?? DEFAULT_PORT)
  const db: DatabaseConfig =
    typeof config.database === 'string' ? { url: config.database } : (config.database ?? {})
  const poolSize = pick<string | number>(
    [flags.poolSize, '--pool-size'],
    [env.HOOKLINE_POOL_SIZE, 'HOOKLINE_POOL_SIZE'],
    [db.poolSize, 'database.poolSize in the config'],
  )
  return {
    configFile: resolve(flags.config ?? defaults.configFile),
    database: flags.database || env.HOOKLINE_DATABASE_URL || db.url || DEFAULT_DATABASE,
    databaseBaseDir:
      !flags.database && !env.HOOKLINE_DATABASE_URL && db.url
        ? dirname(resolve(flags.config ?? defaults.configFile))
        : process.cwd(),
    databaseSchema: flags.schema || env.HOOKLINE_DATABASE_SCHEMA || db.schema || undefined,
    poolSize: poolSize && parsePoolSize(...poolSize),
    port,
    host: flags.host ?? env.HOOKLINE_HOST ?? config.server?.host ?? defaults.host,
    apiKeys: [
      ...new Set(
        [env.HOOKLINE_API_KEY, ...(config.server?.apiKeys ?? [])].filter((k): k is string => !!k),
      ),
    ],
    allowPrivateTargets:
      flags.allowPrivateTargets ??
      (env.HOOKLINE_ALLOW_PRIVATE_TARGETS
        ? env.HOOKLINE_ALLOW_PRIVATE_TARGETS === 'true'
        : undefined) ??
      config.delivery?.allowPrivateTargets ??
      defaults.allowPrivateTargets ??
      false,
  }
}

/** What opening the settings' database needs besides its URL. */
export function storeOptions(settings: Settings): OpenStoreOptions {
  return {
    baseDir: settings.databaseBaseDir,
    postgres: {
      ...(settings.databaseSchema ? { schema: settings.databaseSchema } : {}),
      ...(settings.poolSize ? { poolSize: settings.poolSize } : {}),
    },
  }
}

/** Where the settings' database is, password hidden: the URL, and Hookline's schema on PostgreSQL. */
export function describeDatabase(settings: Settings): string {
  const url = redactUrl(settings.database)
  return settings.database.startsWith('sqlite:')
    ? url
    : `${url} (schema ${settings.databaseSchema ?? 'hookline'})`
}

/**
 * The bootstrap API key: HOOKLINE_API_KEY when set; otherwise one generated on the first
 * start and kept in the database, so that a restart does not break subscribers' set-ups.
 */
export async function bootstrapApiKey(
  store: Store,
  given: string | undefined,
): Promise<{ key: string; generated: boolean }> {
  if (given) return { key: given, generated: false }
  const kept = await store.getMeta(API_KEY_META)
  if (kept) return { key: kept, generated: true }
  const key = `hk_${randomBytes(24).toString('base64url')}`
  await store.setMeta(API_KEY_META, key)
  return { key, generated: true }
}
