import { readdirSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, startCli, WORKER_BANNER } from '../helpers/cli-process.ts'
import { DEMO_CONFIG } from '../helpers/demo.ts'
import { createTestSchemas, type TestSchemas, withAdmin } from '../helpers/postgres.ts'

const MIGRATIONS = readdirSync(new URL('../../src/storage/postgres/migrations/', import.meta.url))
  .filter((f) => /^\d+_.*\.sql$/.test(f))
  .map((f) => Number.parseInt(f, 10))
  .sort((a, b) => a - b)

// `hookline migrate | start | worker` on PostgreSQL, as an operator runs them: the URL with
// the application's search_path, Hookline's schema by flag or environment variable.
describe('the CLI on PostgreSQL', () => {
  let schemas: TestSchemas
  const env = () => ({
    HOOKLINE_DATABASE_URL: schemas.url,
    HOOKLINE_DATABASE_SCHEMA: schemas.hooklineSchema,
  })
  const versions = () =>
    withAdmin(async (c) =>
      (
        await c.query<{ version: number }>(
          `SELECT version FROM ${schemas.hooklineSchema}.schema_migrations ORDER BY version`,
        )
      ).rows.map((r) => r.version),
    )

  beforeAll(async () => {
    schemas = await createTestSchemas()
  })
  afterAll(async () => {
    await schemas?.drop()
  })

  it('migrate applies the versioned migrations in the named schema, once', async () => {
    const args = ['migrate', '--config', DEMO_CONFIG, '--database', schemas.url]
    const first = await runCli([...args, '--schema', schemas.hooklineSchema, '--pool-size', '2'])
    expect(first.stderr).toBe('')
    expect(first.code).toBe(0)
    expect(first.stdout).toContain('deal')
    expect(await versions()).toEqual(MIGRATIONS)
    // Again, with the schema from the environment: nothing to do, nothing doubled.
    const again = await runCli(args, { HOOKLINE_DATABASE_SCHEMA: schemas.hooklineSchema })
    expect(again.code).toBe(0)
    expect(await versions()).toEqual(MIGRATIONS)
    // The application's tables are where its search_path says, Hookline's in its schema.
    const tables = await withAdmin(
      async (c) =>
        (
          await c.query<{ schema: string; name: string }>(
            `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
             WHERE table_schema = ANY ($1) AND table_name IN ('deal', 'deliveries') ORDER BY 1`,
            [[schemas.appSchema, schemas.hooklineSchema]],
          )
        ).rows,
    )
    expect(tables).toEqual([
      { schema: schemas.appSchema, name: 'deal' },
      { schema: schemas.hooklineSchema, name: 'deliveries' },
    ])
  })

  it('start and worker run on the migrated schema and say where', async () => {
    const start = await startCli(
      ['start', '--config', DEMO_CONFIG, '--port', '0', '--host', '127.0.0.1'],
      env(),
    )
    const worker = await startCli(['worker', '--config', DEMO_CONFIG], env(), 30_000, WORKER_BANNER)
    try {
      for (const p of [start, worker])
        expect(p.output()).toContain(`(schema ${schemas.hooklineSchema})`)
      expect(start.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    } finally {
      await Promise.all([start.stop(), worker.stop()])
    }
  })

  it('refuses to run against a schema newer than it knows, with exit code 2', async () => {
    const newer = (MIGRATIONS.at(-1) ?? 0) + 1
    await withAdmin((c) =>
      c.query(
        `INSERT INTO ${schemas.hooklineSchema}.schema_migrations (version, name, applied_at)
         VALUES ($1, 'from_a_newer_hookline', 0)`,
        [newer],
      ),
    )
    try {
      const commands = [['start', '--port', '0'], ['worker'], ['migrate']]
      const runs = await Promise.all(
        commands.map((command) => runCli([...command, '--config', DEMO_CONFIG], env())),
      )
      for (const [i, r] of runs.entries()) {
        expect(r.code, `${commands[i]![0]}: ${r.stderr}`).toBe(2)
        expect(r.stderr).toContain(
          `is at version ${newer}, newer than this Hookline knows (${MIGRATIONS.at(-1)}): upgrade Hookline`,
        )
      }
    } finally {
      await withAdmin((c) =>
        c.query(`DELETE FROM ${schemas.hooklineSchema}.schema_migrations WHERE version = $1`, [
          newer,
        ]),
      )
    }
  })

  it('names the URL, password hidden, and exits with 2 when the database cannot be reached', async () => {
    const base = new URL(schemas.url)
    const noDatabase = new URL(base)
    noDatabase.password = 's3cret'
    noDatabase.pathname = '/hookline_no_such_database'
    const refused = 'postgres://hook:s3cret@127.0.0.1:1/crm'
    const cases = [
      [refused, /ECONNREFUSED/],
      [noDatabase.toString(), /database "hookline_no_such_database" does not exist/],
    ] as const
    const [worker, ...runs] = await Promise.all([
      runCli(['worker', '--config', DEMO_CONFIG], { HOOKLINE_DATABASE_URL: refused }),
      ...cases.map(([url]) =>
        runCli(['start', '--config', DEMO_CONFIG, '--port', '0', '--database', url]),
      ),
    ])
    for (const [i, [url, reason]] of cases.entries()) {
      const r = runs[i]!
      expect(r.code, r.stderr).toBe(2)
      expect(r.stderr).toContain(
        `hookline: cannot connect to PostgreSQL at ${url.replace(':s3cret@', ':***@')}`,
      )
      expect(r.stderr).toMatch(reason)
      expect(r.stderr).not.toContain('s3cret')
    }
    expect(worker!.code).toBe(2)
    expect(worker!.stderr).toContain('postgres://hook:***@127.0.0.1:1/crm')
  })

  it('refuses a pool size that is not a positive number, naming where it came from', async () => {
    const r = await runCli(['worker', '--config', DEMO_CONFIG], {
      ...env(),
      HOOKLINE_POOL_SIZE: 'ten',
    })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("HOOKLINE_POOL_SIZE is 'ten'")
  })
})
