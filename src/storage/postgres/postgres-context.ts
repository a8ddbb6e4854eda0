import { randomUUID } from 'node:crypto'
import type pg from 'pg'
import { quoteIdent } from './postgres-sql.ts'
import { churnVacuum, growthAnalyzer, type TableUpkeep } from './postgres-stats.ts'

/** Consumed changes between two vacuums of the change log (`churnVacuum`). */
const CHANGES_VACUUM_EVERY = 10_000

/** What the parts of the PostgreSQL store share: the pool and Hookline's table names. */
export interface PostgresContext {
  readonly pool: pg.Pool
  readonly schema: string
  /** Hookline's tables, schema-qualified and quoted. */
  readonly t: {
    readonly changes: string
    readonly subscriptions: string
    readonly messages: string
    readonly deliveries: string
    readonly attempts: string
    readonly meta: string
  }
  /** The channel Hookline's transactions notify when deliveries became due. */
  readonly channel: string
  /**
   * This store's token, sent as the payload of its notifications: its own process nudges
   * itself directly, so it skips them (half the claims at low rates came back empty).
   */
  readonly instance: string
  /** Analyzes the outbox tables as this process fills them. */
  readonly growth: TableUpkeep
  /** Vacuums the change log as this process consumes it. */
  readonly consumed: TableUpkeep
}

export function postgresContext(pool: pg.Pool, schema: string): PostgresContext {
  const q = (table: string) => `${quoteIdent(schema)}.${table}`
  return {
    pool,
    schema,
    t: {
      changes: q('changes'),
      subscriptions: q('subscriptions'),
      messages: q('messages'),
      deliveries: q('deliveries'),
      attempts: q('attempts'),
      meta: q('meta'),
    },
    channel: `hookline:${schema}`,
    instance: randomUUID(),
    growth: growthAnalyzer(pool, [q('deliveries'), q('messages')]),
    consumed: churnVacuum(pool, q('changes'), CHANGES_VACUUM_EVERY),
  }
}
