import { randomUUID } from 'node:crypto'
import type pg from 'pg'
import { quoteIdent } from './postgres-sql.ts'
import { GrowthAnalyzer } from './postgres-stats.ts'

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
  readonly growth: GrowthAnalyzer
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
    growth: new GrowthAnalyzer(pool, [q('deliveries'), q('messages')]),
  }
}
