import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import pg from 'pg'
import { PG_URL } from './context.ts'
import { pgAdmin } from './systems.ts'

const require = createRequire(import.meta.url)

function packageVersion(name: string): string {
  try {
    const file = require.resolve(`${name}/package.json`)
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version
  } catch {
    return 'unknown'
  }
}

function command(cmd: string, args: string[]): string | null {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', timeout: 5000 }).trim()
  } catch {
    return null
  }
}

/** Why the PostgreSQL store cannot be benchmarked, or null when it can. */
export async function probePostgres(): Promise<string | null> {
  const schema = `bench_probe_${randomBytes(4).toString('hex')}`
  try {
    const { openStore } = await import('../../src/storage/open-store.ts')
    const store = await openStore(PG_URL, { postgres: { schema } })
    try {
      await store.migrate()
    } finally {
      await store.close()
    }
    return null
  } catch (error) {
    return (error as Error).message.split('\n')[0] ?? String(error)
  } finally {
    await pgAdmin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {})
  }
}

async function postgresVersion(): Promise<string | null> {
  const client = new pg.Client({ connectionString: PG_URL })
  try {
    await client.connect()
    const { rows } = await client.query('SHOW server_version')
    return String(rows[0]?.server_version ?? '')
  } catch {
    return null
  } finally {
    await client.end().catch(() => {})
  }
}

/** The machine and versions, for the report. */
export async function machineInfo(): Promise<Record<string, unknown>> {
  const cpus = os.cpus()
  const hookline = JSON.parse(
    readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
  ) as { version: string }
  const redis = command('redis-server', ['--version'])
  const dirty = command('git', ['status', '--porcelain', '--', 'src'])
  return {
    commit: command('git', ['rev-parse', '--short', 'HEAD']),
    uncommittedSrc: dirty ? dirty.split('\n').length : 0,
    cpuModel: cpus[0]?.model ?? 'unknown',
    nproc: command('nproc', []) ?? String(os.availableParallelism()),
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    versions: {
      hookline: hookline.version,
      undici: packageVersion('undici'),
      'better-sqlite3': packageVersion('better-sqlite3'),
      sqlite: command('node', [
        '-e',
        "console.log(new (require('better-sqlite3'))(':memory:').prepare('select sqlite_version() v').get().v)",
      ]),
      pg: packageVersion('pg'),
      'pg-boss': packageVersion('pg-boss'),
      bullmq: packageVersion('bullmq'),
      postgres: await postgresVersion(),
      redis: redis ? (/v=(\S+)/.exec(redis)?.[1] ?? redis) : null,
    },
  }
}
