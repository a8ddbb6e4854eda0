// The physical limit: the same signed bodies POSTed by a bare undici Pool (64 connections
// per receiver port), no storage, no queue. Bodies are built before the clock starts (as a
// store holds them); each request is signed when sent, as every sender must.
import { Pool } from 'undici'
import { type BaselineSub, jobsFor } from '../lib/baselines.ts'
import { signedHeaders } from '../lib/payload.ts'
import { epochMs, fail, procArgs, reply } from '../lib/proc.ts'

interface Args {
  readonly subs: readonly BaselineSub[]
  /** Messages; each goes to every subscriber. */
  readonly messages: number
  readonly connections: number
}

try {
  const { subs, messages, connections } = procArgs<Args>()
  const pools = new Map<string, Pool>()
  const jobs = Array.from({ length: messages }, (_, i) => jobsFor(subs, i + 1, 0)).flat()
  const targets = jobs.map((job) => {
    const url = new URL(job.url)
    let pool = pools.get(url.origin)
    if (!pool) {
      pool = new Pool(url.origin, { connections, keepAliveTimeout: 30_000 })
      pools.set(url.origin, pool)
    }
    return { job, pool, path: url.pathname }
  })
  reply({ type: 'ready' })
  const started = epochMs()
  let next = 0
  let errors = 0
  const lane = async () => {
    while (next < targets.length) {
      const { job, pool, path } = targets[next++]!
      try {
        const res = await pool.request({
          method: 'POST',
          path,
          headers: signedHeaders(job.secret, job.id, job.body),
          body: job.body,
        })
        await res.body.text()
      } catch {
        errors++
      }
    }
  }
  await Promise.all(Array.from({ length: connections * pools.size * 2 }, lane))
  const finished = epochMs()
  await Promise.all([...pools.values()].map((p) => p.close()))
  reply({ type: 'done', sent: targets.length, errors, started, finished })
  process.disconnect?.()
} catch (error) {
  fail(error)
}
