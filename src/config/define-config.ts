import type { HealthPolicy } from '../delivery/endpoint-health.ts'
import type { TargetPolicyConfig } from '../delivery/target-policy.ts'
import type { Binding } from '../tracking/define-tracking.ts'

export interface DeliveryConfig extends TargetPolicyConfig {
  /** Whole-attempt timeout in ms. Default 15 000. */
  readonly timeoutMs?: number
  /** Delays before each attempt in ms. Default: 0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. */
  readonly retrySchedule?: readonly number[]
  /** Attempts in flight at once. Default 256. */
  readonly concurrency?: number
  /** Attempts in flight at once to one subscription. Default 16. */
  readonly perSubscriptionConcurrency?: number
  /** How long a claimed delivery is reserved for one process, in ms. Default 120 000. */
  readonly leaseMs?: number
  /** Longest `Retry-After` honoured, in ms. Default 3 600 000 (1 h). */
  readonly retryAfterMaxMs?: number
  /** Keep-alive connections per target origin. Default: `concurrency`, so that subscriptions sharing a host never wait behind a hung one. */
  readonly connectionsPerOrigin?: number
  /** How long a rotated-out secret keeps signing, in ms. Default 86 400 000 (24 h). */
  readonly rotationGraceMs?: number
  /** Longest sleep between checks for due deliveries, in ms. Default 1 000. */
  readonly pollIntervalMs?: number
  /** When a failing subscription is reported and disabled. */
  readonly health?: Partial<HealthPolicy>
  /** Messages (with their deliveries and attempts) older than this are deleted once finished, in ms. Default 30 days. */
  readonly retentionMs?: number
  /**
   * Sign and send from a worker thread, leaving the main thread to capture and the store:
   * on a machine with more than one core, more deliveries per second. Default: true when
   * the process may use more than one core.
   */
  readonly sendThread?: boolean
}

export interface CaptureConfig {
  /** Changes processed per transaction. Default 500. */
  readonly batchSize?: number
  /** Longest sleep between looks at the change log, in ms. Default 25 (SQLite also watches the WAL file). */
  readonly pollIntervalMs?: number
  /**
   * PostgreSQL only: tracked tables also `NOTIFY` Hookline when a statement changed them,
   * so capture starts at once rather than at its next poll (a few ms while writes flow, up
   * to `pollIntervalMs` after a quiet spell). It costs the application's writers: every
   * notifying commit queues behind one server-wide lock. Default false. (SQLite watches
   * its WAL file instead, at no cost to writers.)
   */
  readonly notify?: boolean
}

export interface ServerConfig {
  /** Default 8080. */
  readonly port?: number
  /** Default 127.0.0.1 in dev, 0.0.0.0 otherwise. */
  readonly host?: string
  /** API keys accepted as `Authorization: Bearer <key>`. */
  readonly apiKeys?: readonly string[]
  /** Largest request body in bytes. Default 65 536. */
  readonly bodyLimit?: number
}

/** The database, when more than its URL is to be said. */
export interface DatabaseConfig {
  /** `sqlite:./data/hookline.db` (default) or `postgres://user@host:5432/db`. */
  readonly url?: string
  /** PostgreSQL: the schema of Hookline's own tables. Default `hookline`. */
  readonly schema?: string
  /**
   * PostgreSQL: connections in each process's pool. Default 10. Each process also keeps
   * one more connection for `LISTEN` and the capture lock.
   */
  readonly poolSize?: number
}

/** A project's `hookline.config.ts`. Paths are relative to the config file. */
export interface HooklineConfig {
  /**
   * `sqlite:./data/hookline.db` (default) or `postgres://user@host:5432/db`, or an object
   * with the URL, Hookline's schema and the pool size.
   */
  readonly database?: string | DatabaseConfig
  /** Folder of event files. Default `./events`. */
  readonly events?: string
  /** Folder of tracking handlers. Default `./tracking`. */
  readonly tracking?: string
  /** Events fired without code. */
  readonly bindings?: readonly Binding[]
  /**
   * SQL run once when the application's tracked tables do not exist yet (demos, tests):
   * one file, or one per store.
   */
  readonly initSql?: string | { readonly sqlite?: string; readonly postgres?: string }
  readonly server?: ServerConfig
  readonly delivery?: DeliveryConfig
  readonly capture?: CaptureConfig
}

/**
 * Declares a project's configuration, with types.
 *
 * @example
 * export default defineConfig({
 *   database: 'sqlite:./data/app.db',
 *   bindings: [{ table: 'contact', on: 'insert', event: 'NewContact' }],
 * })
 */
export function defineConfig(config: HooklineConfig): HooklineConfig {
  return config
}
