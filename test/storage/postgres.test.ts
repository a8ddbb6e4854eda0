import { execFileSync } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import { newId } from '../../src/ids.ts'
import { toPositional } from '../../src/storage/postgres/postgres-sql.ts'
import { openPostgresStore } from '../../src/storage/postgres/postgres-store.ts'
import type { Store } from '../../src/storage/store.ts'
import {
  createTestSchemas,
  openTestPostgresStore,
  type TestSchemas,
  withAdmin,
} from '../helpers/postgres.ts'
import { storeContract } from './store.contract.ts'

storeContract('PostgreSQL', async () => {
  const { store, schemas } = await openTestPostgresStore()
  return {
    store,
    hooklineTable: (name) => `${schemas.hooklineSchema}.${name}`,
    async dispose() {
      await store.close()
      await schemas.drop()
    },
  }
})

describe('PostgreSQL store', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })
  /** Stores on the same fresh schemas, as several Hookline processes would have. */
  const openShared = async (n: number): Promise<{ stores: Store[]; schemas: TestSchemas }> => {
    const schemas = await createTestSchemas()
    cleanups.push(() => schemas.drop())
    const stores: Store[] = []
    for (let i = 0; i < n; i++) {
      const store = await openPostgresStore({ url: schemas.url, schema: schemas.hooklineSchema })
      cleanups.push(() => store.close())
      await store.migrate()
      stores.push(store)
    }
    return { stores, schemas }
  }
  const subscribe = (store: Store, event = 'Ping') =>
    store.createSubscription({
      id: newId('sub'),
      event,
      targetUrl: `https://example.com/${newId('x')}`,
      secret: 'whsec_x',
      headers: {},
      now: Date.now(),
    })
  const message = (event = 'Ping') => ({
    id: newId('msg'),
    event,
    rowId: 1,
    body: '{}',
    createdAt: Date.now(),
  })

  it('hides the password, and names the URL when the server cannot be reached', async () => {
    const url = 'postgres://hook:s3cret@127.0.0.1:1/crm'
    const error = await openPostgresStore({ url }).catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'database_unreachable',
      message: expect.stringContaining('postgres://hook:***@127.0.0.1:1/crm'),
    })
    expect(String((error as Error).message)).not.toContain('s3cret')
    const { stores } = await openShared(1)
    expect(stores[0]!.description).not.toMatch(/:[^/*@]+@/)
    expect(stores[0]!.capabilities).toEqual({ multiProcess: true, dialect: 'postgres' })
  })

  it('captures writes from any client: psql, COPY, with text keys', async () => {
    const { stores, schemas } = await openShared(1)
    const store = stores[0]!
    await store.exec('CREATE TABLE tag (code text PRIMARY KEY, label text)')
    await store.installCapture(['tag'])
    const psql = (sql: string, input?: string) =>
      execFileSync('psql', [schemas.url, '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql], {
        ...(input === undefined ? {} : { input }),
        stdio: ['pipe', 'pipe', 'pipe'],
      })
    psql("INSERT INTO tag VALUES ('a', 'Alpha')")
    psql('COPY tag (code, label) FROM STDIN', 'b\tBeta\nc\tGamma\n')
    psql("BEGIN; INSERT INTO tag VALUES ('z', 'never'); ROLLBACK")
    psql("UPDATE tag SET label = 'ALPHA' WHERE code = 'a'")
    const changes = await store.readChanges(10)
    expect(changes.map((c) => [c.action, c.rowId])).toEqual([
      ['insert', 'a'],
      ['insert', 'b'],
      ['insert', 'c'],
      ['update', 'a'],
    ])
    expect(changes[3]).toMatchObject({
      before: { code: 'a', label: 'Alpha' },
      after: { code: 'a', label: 'ALPHA' },
    })
  })

  it('waits in the database for the first change another process commits, and no longer', async () => {
    const { stores, schemas } = await openShared(1)
    const store = stores[0]!
    await store.exec('CREATE TABLE tag (code text PRIMARY KEY, label text)')
    await store.installCapture(['tag'])
    const wait = { ms: 10_000, quietMs: 0, everyMaxMs: 10 }
    // Nothing comes: the wait ends empty once its time is up.
    const empty = await store.waitForChanges!(10, { ...wait, ms: 50 })
    expect(empty).toEqual([])
    // A commit by psql while the wait runs ends it with that change, long before its time.
    const started = performance.now()
    const waiting = store.waitForChanges!(10, wait)
    await new Promise((resolve) => setTimeout(resolve, 100))
    execFileSync('psql', [schemas.url, '-q', '-c', "INSERT INTO tag VALUES ('a', 'Alpha')"])
    const changes = await waiting
    expect(changes.map((c) => [c.action, c.rowId])).toEqual([['insert', 'a']])
    expect(performance.now() - started).toBeLessThan(wait.ms / 2)
    // Changes already in the log come back at once, as `readChanges` gives them.
    expect(await store.waitForChanges!(10, wait)).toEqual(await store.readChanges(10))
  })

  it("ends a wait for changes within the connections' statement_timeout", async () => {
    const { schemas } = await openShared(1)
    const url = new URL(schemas.url)
    url.searchParams.set('options', `${url.searchParams.get('options')} -c statement_timeout=200`)
    const store = await openPostgresStore({ url: url.toString(), schema: schemas.hooklineSchema })
    cleanups.push(() => store.close())
    const started = performance.now()
    expect(await store.waitForChanges!(10, { ms: 10_000, quietMs: 0, everyMaxMs: 10 })).toEqual([])
    expect(performance.now() - started).toBeLessThan(5000)
  })

  it('elects one change consumer; another takes over when it is gone', async () => {
    const { stores } = await openShared(2)
    const [a, b] = stores as [Store, Store]
    expect(await a.acquireChangeConsumerLock!()).toBe(true)
    expect(await a.acquireChangeConsumerLock!()).toBe(true)
    expect(await b.acquireChangeConsumerLock!()).toBe(false)
    await a.close()
    await expect.poll(() => b.acquireChangeConsumerLock!(), { timeout: 5000 }).toBe(true)
  })

  it('refuses to consume changes another consumer already committed', async () => {
    const { stores } = await openShared(2)
    const [a, b] = stores as [Store, Store]
    await a.exec('CREATE TABLE item (id integer PRIMARY KEY)')
    await a.installCapture(['item'])
    await a.exec('INSERT INTO item VALUES (1)')
    const seenByA = await a.readChanges(10)
    const seenByB = await b.readChanges(10)
    await a.commitChanges(
      seenByA.map((c) => c.id),
      [message()],
    )
    await expect(
      b.commitChanges(
        seenByB.map((c) => c.id),
        [message()],
      ),
    ).rejects.toMatchObject({ code: 'changes_already_consumed' })
    expect(await a.countMessages()).toBe(1)
  })

  /**
   * Counts `b`'s wake-ups once they flow: its listener connects in the background, so `a`
   * adds deliveries until one arrives.
   */
  const listening = async (a: Store, b: Store) => {
    const woken = { count: 0 }
    const off = b.onNotify!(() => woken.count++)
    cleanups.push(async () => off())
    await expect
      .poll(
        async () => {
          await a.insertMessages([message()])
          return woken.count
        },
        { timeout: 5000, interval: 100 },
      )
      .toBeGreaterThan(0)
    return woken
  }

  it('wakes other processes when deliveries are added', async () => {
    const { stores } = await openShared(2)
    const [a, b] = stores as [Store, Store]
    await subscribe(a)
    await listening(a, b)
  })

  it('wakes other processes only for the deliveries the writer did not lease itself', async () => {
    const { stores } = await openShared(2)
    const [a, b] = stores as [Store, Store]
    const sub = await subscribe(a)
    const woken = await listening(a, b)
    await new Promise((resolve) => setTimeout(resolve, 300))
    woken.count = 0
    const offer = { now: Date.now(), leaseMs: 60_000, exclude: [], perSubscription: 16 }
    const kept = await a.commitChanges([], [message()], { ...offer, limit: 16 })
    expect(kept).toMatchObject({ deliveries: 1, leased: [{ event: 'Ping', body: '{}' }] })
    const left = await a.commitChanges([], [message()], { ...offer, limit: 0 })
    expect(left).toEqual({ deliveries: 1, leased: [], subscriptions: [sub.subscription.id] })
    // Notifications arrive in commit order: the first commit would have come first.
    await expect.poll(() => woken.count, { timeout: 5000 }).toBe(1)
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(woken.count).toBe(1)
  })

  it('keeps the ten-argument outbox call of the previous version working while it rolls out', async () => {
    const { stores, schemas } = await openShared(1)
    const [a] = stores as [Store]
    await subscribe(a)
    const m = message()
    const row = await a.db.one(
      `SELECT ${schemas.hooklineSchema}.write_messages(NULL, ARRAY['${m.id}'], ARRAY['Ping'], ARRAY['1'::jsonb],
         ARRAY['{}'], ARRAY[${m.createdAt}::bigint], ARRAY[NULL::text], ARRAY[NULL::text], 'hookline:old', 'old') AS made`,
    )
    expect(row.made).toBe(1)
    expect(await a.countMessages()).toBe(1)
    expect(await a.claimDeliveries(Date.now(), 10, 1000)).toHaveLength(1)
  })

  it('shares due deliveries between processes without handing one out twice', async () => {
    const { stores } = await openShared(3)
    await subscribe(stores[0]!)
    await subscribe(stores[0]!)
    await stores[0]!.insertMessages(Array.from({ length: 300 }, () => message()))
    const now = Date.now() + 1000
    const claimed = await Promise.all(
      stores.map(async (store) => {
        const ids: string[] = []
        for (;;) {
          const jobs = await store.claimDeliveries(now, 25, 60_000)
          if (jobs.length === 0) return ids
          ids.push(...jobs.map((j) => j.id))
        }
      }),
    )
    const all = claimed.flat()
    expect(all).toHaveLength(600)
    expect(new Set(all).size).toBe(600)
    expect(claimed.filter((ids) => ids.length > 0).length).toBeGreaterThan(1)
  })

  it('records attempts while another process removes their subscription, without deadlock', async () => {
    // Both lock the subscription before its deliveries: recording the other way round
    // deadlocked with an unsubscribe cancelling the same deliveries.
    const { stores } = await openShared(2)
    const [a, b] = stores as [Store, Store]
    for (let round = 0; round < 40; round++) {
      const { subscription } = await subscribe(a)
      await a.insertMessages(Array.from({ length: 20 }, () => message()))
      const jobs = await a.claimDeliveries(Date.now() + 1000, 100, 60_000)
      const now = Date.now()
      await Promise.all([
        a.recordAttempts(
          jobs.map((j) => ({
            deliveryId: j.id,
            subscriptionId: j.subscriptionId,
            event: 'Ping',
            attemptedAt: now,
            durationMs: 1,
            statusCode: 200,
            responseBody: null,
            error: null,
            status: 'succeeded' as const,
            nextAttemptAt: null,
            subscriptionAction: null,
          })),
        ),
        new Promise((resolve) => setTimeout(resolve, round % 5)).then(() =>
          b.removeSubscription(subscription.id, now),
        ),
      ])
    }
  })

  it('recovers when its connections are killed: pool, consumer lock and wake-ups', async () => {
    const schemas = await createTestSchemas()
    cleanups.push(() => schemas.drop())
    const url = new URL(schemas.url)
    url.searchParams.set('application_name', schemas.hooklineSchema)
    const open = async () => {
      const store = await openPostgresStore({
        url: url.toString().replaceAll('+', '%20'),
        schema: schemas.hooklineSchema,
      })
      cleanups.push(() => store.close())
      return store
    }
    const a = await open()
    const b = await open()
    await a.migrate()
    await subscribe(a)
    expect(await a.acquireChangeConsumerLock!()).toBe(true)
    let woken = 0
    b.onNotify!(() => woken++)
    await expect.poll(async () => (await a.insertMessages([message()])) && woken).toBeGreaterThan(0)

    const killed = await withAdmin(
      async (c) =>
        (
          await c.query(
            'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
            [schemas.hooklineSchema],
          )
        ).rowCount,
    )
    expect(killed).toBeGreaterThanOrEqual(3)

    // Queries fail at most while dead connections are found out, then work again.
    await expect.poll(() => a.countMessages().catch(() => -1), { timeout: 5000 }).toBeGreaterThan(0)
    // The lock went with its connection: one of the two takes it again, not both.
    await expect
      .poll(
        async () => [await a.acquireChangeConsumerLock!(), await b.acquireChangeConsumerLock!()],
        {
          timeout: 5000,
        },
      )
      .toSatisfy((held: boolean[]) => held.filter(Boolean).length === 1)
    // The listener reconnected.
    const before = woken
    await expect
      .poll(async () => (await a.insertMessages([message()]).catch(() => 0)) && woken, {
        timeout: 8000,
        interval: 200,
      })
      .toBeGreaterThan(before)
  })

  it('migrates concurrently from several processes', async () => {
    const schemas = await createTestSchemas()
    cleanups.push(() => schemas.drop())
    const stores = await Promise.all(
      [1, 2, 3].map(() => openPostgresStore({ url: schemas.url, schema: schemas.hooklineSchema })),
    )
    for (const store of stores) cleanups.push(() => store.close())
    await Promise.all(stores.map((s) => s.migrate()))
    await stores[0]!.setMeta('ok', 'yes')
    expect(await stores[2]!.getMeta('ok')).toBe('yes')
  })

  it('analyzes the outbox tables as it fills them, so claims keep an index plan without autovacuum', async () => {
    const { stores, schemas } = await openShared(1)
    const [store] = stores as [Store]
    const analyzed = async () =>
      (
        await withAdmin((c) =>
          c.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_user_tables
             WHERE schemaname = $1 AND relname IN ('deliveries', 'messages') AND last_analyze IS NOT NULL`,
            [schemas.hooklineSchema],
          ),
        )
      ).rows[0]!.n
    await subscribe(store)
    await store.insertMessages(Array.from({ length: 900 }, () => message()))
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(await analyzed()).toBe(0) // below 1,000 rows written: not yet
    await store.insertMessages(Array.from({ length: 200 }, () => message()))
    await expect.poll(analyzed, { timeout: 10_000 }).toBe(2)
  })

  it('vacuums the change log as it consumes it, so reading its head stays cheap without autovacuum', async () => {
    const { stores, schemas } = await openShared(1)
    const [store] = stores as [Store]
    await store.exec('CREATE TABLE item (id integer PRIMARY KEY)')
    await store.installCapture(['item'])
    const vacuums = async () =>
      (
        await withAdmin((c) =>
          c.query<{ n: number }>(
            `SELECT vacuum_count::int AS n FROM pg_stat_user_tables
             WHERE schemaname = $1 AND relname = 'changes'`,
            [schemas.hooklineSchema],
          ),
        )
      ).rows[0]!.n
    const consume = async () => {
      for (;;) {
        const batch = await store.readChanges(5000)
        if (batch.length === 0) return
        await store.commitChanges(
          batch.map((change) => change.id),
          [],
        )
      }
    }
    // Whatever the server's settings, only Hookline vacuums this table here.
    await withAdmin((c) =>
      c.query(`ALTER TABLE "${schemas.hooklineSchema}".changes SET (autovacuum_enabled = false)`),
    )
    await store.exec('INSERT INTO item SELECT generate_series(1, 9999)')
    await consume()
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(await vacuums()).toBe(0) // 9,999 consumed: not yet
    await store.exec('INSERT INTO item VALUES (10000)')
    await consume()
    await expect.poll(vacuums, { timeout: 10_000 }).toBe(1)
  })
})

describe('toPositional', () => {
  it('numbers ? placeholders outside quotes and comments', () => {
    expect(toPositional('SELECT \'?\', "a?" FROM t WHERE a = ? -- ?\n AND b = ? /* ? */')).toBe(
      'SELECT \'?\', "a?" FROM t WHERE a = $1 -- ?\n AND b = $2 /* ? */',
    )
    expect(toPositional("SELECT 'it''s ?' WHERE x = ?")).toBe("SELECT 'it''s ?' WHERE x = $1")
  })

  it('leaves SQL that already uses $n alone', () => {
    expect(toPositional("SELECT data ? 'k' FROM t WHERE id = $1")).toBe(
      "SELECT data ? 'k' FROM t WHERE id = $1",
    )
  })
})
