import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { Webhook } from 'standardwebhooks'
import { expect } from 'vitest'
import { defineEvent } from '../../src/events/define-event.ts'
import { createHookline, type Hookline, type HooklineOptions } from '../../src/hookline.ts'
import { openStore } from '../../src/storage/open-store.ts'
import {
  openPostgresStore,
  type PostgresStoreOptions,
} from '../../src/storage/postgres/postgres-store.ts'
import { defineTracking } from '../../src/tracking/define-tracking.ts'
import type { Received } from './receiver.ts'

/** The test server. Tests that need it fail (never skip) when it cannot be reached. */
export const TEST_DATABASE_URL =
  process.env.HOOKLINE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** A URL whose connections find unqualified tables in `schema` (the application's tables). */
export function urlWithSearchPath(url: string, schema: string): string {
  const u = new URL(url)
  u.searchParams.set('options', `-c search_path=${schema}`)
  // libpq (psql) reads '+' literally: spell the space as %20 so every client agrees.
  return u.toString().replaceAll('+', '%20')
}

/** Runs `fn` with one connection to the test server. */
export async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL })
  try {
    await client.connect()
  } catch (error) {
    throw new Error(
      `PostgreSQL for tests is unreachable at ${TEST_DATABASE_URL} (set HOOKLINE_TEST_DATABASE_URL, or start it: pg_ctlcluster --skip-systemctl-redirect 15 main start): ${(error as Error).message}`,
      { cause: error },
    )
  }
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

/** Two fresh schemas: one for Hookline's tables, one for the application's. */
export interface TestSchemas {
  /** The test database URL with search_path set to the application's schema. */
  readonly url: string
  readonly hooklineSchema: string
  readonly appSchema: string
  drop(): Promise<void>
}

export async function createTestSchemas(): Promise<TestSchemas> {
  const suffix = randomBytes(6).toString('hex')
  const hooklineSchema = `hl_${suffix}`
  const appSchema = `app_${suffix}`
  await withAdmin((c) => c.query(`CREATE SCHEMA ${appSchema}`))
  return {
    url: urlWithSearchPath(TEST_DATABASE_URL, appSchema),
    hooklineSchema,
    appSchema,
    drop: () =>
      withAdmin(async (c) => {
        await c.query(`DROP SCHEMA IF EXISTS ${hooklineSchema} CASCADE`)
        await c.query(`DROP SCHEMA IF EXISTS ${appSchema} CASCADE`)
      }),
  }
}

/**
 * A Hookline (not started) on the test schemas whose application table `item` fires
 * `ItemAdded` with the row's id.
 */
export async function itemHookline(
  schemas: TestSchemas,
  options: Pick<HooklineOptions, 'capture' | 'delivery'>,
): Promise<Hookline> {
  const store = await openStore(schemas.url, { postgres: { schema: schemas.hooklineSchema } })
  return createHookline({
    database: store,
    events: {
      ItemAdded: defineEvent({ description: 'An item', build: ({ rowId }) => ({ rowId }) }),
    },
    tracking: {
      item: defineTracking({ onChange: (c, { trigger }) => trigger('ItemAdded', c.rowId) }),
    },
    ...options,
  })
}

/** A PostgreSQL store on fresh schemas (not migrated); `drop()` after closing it. */
export async function openTestPostgresStore(
  options: Omit<PostgresStoreOptions, 'url' | 'schema'> = {},
) {
  const schemas = await createTestSchemas()
  const store = await openPostgresStore({
    url: schemas.url,
    schema: schemas.hooklineSchema,
    ...options,
  })
  return { store, schemas }
}

/** Reads a Hookline schema's outbox as the end-to-end tests check it. */
export function outbox(hooklineSchema: string) {
  const query = <T extends object>(sql: string) =>
    withAdmin(async (c) => (await c.query<T>(sql)).rows)
  /** The NewOpportunity messages, by row id. */
  const messages = () =>
    query<{ id: string; row_id: number }>(
      `SELECT id, row_id FROM ${hooklineSchema}.messages WHERE event = 'NewOpportunity' ORDER BY row_id`,
    )
  return {
    query,
    messages,
    /**
     * The end state of a run where deals named `deal …` were inserted: one NewOpportunity
     * message per deal, in row order, an empty change log, and every request received
     * verified with `secret`, covering every message. Returns each request's verified
     * message id (repeats included).
     */
    async expectOneMessagePerDeal(
      appSchema: string,
      deals: number,
      received: readonly Received[],
      secret: string,
    ): Promise<string[]> {
      const dealIds = (
        await query<{ id: number }>(
          `SELECT id FROM ${appSchema}.deal WHERE name LIKE 'deal %' ORDER BY id`,
        )
      ).map((r) => r.id)
      expect(dealIds).toHaveLength(deals)
      const all = await messages()
      expect(all.map((m) => m.row_id)).toEqual(dealIds)
      expect(await query(`SELECT id FROM ${hooklineSchema}.changes`)).toEqual([])
      const webhook = new Webhook(secret)
      const ids = received.map(
        (r) => (webhook.verify(r.body, r.headers as Record<string, string>) as { id: string }).id,
      )
      expect(new Set(ids)).toEqual(new Set(all.map((m) => m.id)))
      return ids
    },
    /** How many deliveries have not succeeded (yet). */
    unfinished: async () =>
      (
        await query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${hooklineSchema}.deliveries WHERE status != 'succeeded'`,
        )
      )[0]!.n,
  }
}
