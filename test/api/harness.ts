import Database from 'better-sqlite3'
import type { FastifyInstance } from 'fastify'
import { request } from 'undici'
import { afterEach, beforeEach, expect } from 'vitest'
import { buildApi } from '../../src/api/build-api.ts'
import type { Hookline } from '../../src/hookline.ts'
import { demoHookline } from '../helpers/demo.ts'
import { tempDbPath, tempDir } from '../helpers/temp.ts'

export const API_KEY = 'test-key-0123456789'

export interface CallOptions {
  /** Sent as JSON with content-type: application/json. */
  readonly json?: unknown
  /** Sent as is (with `headers` choosing the content-type). */
  readonly body?: string | Buffer
  readonly headers?: Record<string, string>
  /** Send no Authorization header. */
  readonly anonymous?: boolean
}

export interface ApiResponse {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly text: string
  /** The parsed body; undefined when empty. */
  readonly json: any
}

/** The demo CRM's Hookline with its real HTTP API on 127.0.0.1, fresh for each test. */
export interface ApiHarness {
  readonly hookline: Hookline
  readonly app: FastifyInstance
  readonly base: string
  readonly dbPath: string
  call(method: string, path: string, options?: CallOptions): Promise<ApiResponse>
  /** Runs SQL on the demo database through a separate connection, as another writer would. */
  sql(statement: string, ...params: unknown[]): { lastInsertRowid: number | bigint }
}

async function start(dir: string): Promise<ApiHarness & { close(): Promise<void> }> {
  const dbPath = tempDbPath(dir)
  const hookline = await demoHookline(`sqlite:${dbPath}`)
  const app = await buildApi(hookline, { apiKeys: [API_KEY] })
  const base = await app.listen({ host: '127.0.0.1', port: 0 })
  return {
    hookline,
    app,
    base,
    dbPath,
    async call(method, path, options = {}) {
      const headers: Record<string, string> = { ...options.headers }
      if (!options.anonymous) headers.authorization ??= `Bearer ${API_KEY}`
      let body = options.body
      if (options.json !== undefined) {
        body = JSON.stringify(options.json)
        headers['content-type'] ??= 'application/json'
      }
      const res = await request(`${base}${path}`, { method: method as 'GET', headers, body })
      const text = await res.body.text()
      return {
        status: res.statusCode,
        headers: res.headers,
        text,
        json: String(res.headers['content-type'] ?? '').includes('json')
          ? JSON.parse(text)
          : undefined,
      }
    },
    sql(statement, ...params) {
      const db = new Database(dbPath)
      try {
        db.pragma('busy_timeout = 5000')
        return db.prepare(statement).run(...params)
      } finally {
        db.close()
      }
    },
    async close() {
      await app.close()
      await hookline.stop()
    },
  }
}

/** Registers a fresh harness per test; read `api.current` inside tests. */
export function useApi(): { readonly current: ApiHarness } {
  const dir = tempDir()
  const holder: { current: ApiHarness } = { current: undefined as never }
  let running: Awaited<ReturnType<typeof start>> | undefined
  beforeEach(async () => {
    running = await start(dir)
    holder.current = running
  })
  afterEach(async () => {
    await running?.close()
    running = undefined
  })
  return holder
}

/** Asserts the JSON error shape of DESIGN §3 with this status and code. */
export function expectError(res: ApiResponse, status: number, code?: string): void {
  expect(res.status, res.text).toBe(status)
  expect(String(res.headers['content-type'])).toMatch(/^application\/json/)
  expect(res.json).toMatchObject({
    error: { code: expect.stringMatching(/^[a-z_]+$/), message: expect.any(String) },
  })
  expect(res.json.error.message.length).toBeGreaterThan(10)
  if (code) expect(res.json.error.code).toBe(code)
}

/** A subscribe body for a loopback target that nothing listens on (tests here never deliver). */
export const target = (path: string) => `http://127.0.0.1:9/${path}`
