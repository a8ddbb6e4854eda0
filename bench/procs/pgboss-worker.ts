// Do-it-yourself baseline: pg-boss 10 workers POSTing each job with undici.
// Tuning: `workers` fetch loops of `batchSize` jobs each, sent concurrently; a loop that
// got a full batch fetches again at once (notifyWorker) instead of sleeping the polling
// interval (0.5 s, pg-boss's minimum); failed jobs are failed one by one for retry.
import PgBoss from 'pg-boss'
import { type DeliveryJobData, makeSender, PG_BOSS_QUEUE } from '../lib/baselines.ts'
import { fail, onMessages, procArgs, reply } from '../lib/proc.ts'

interface Args {
  readonly url: string
  readonly schema: string
  readonly workers: number
  readonly batchSize: number
}

try {
  const { url, schema, workers, batchSize } = procArgs<Args>()
  const boss = new PgBoss({
    connectionString: url,
    schema,
    max: workers + 2,
    schedule: false,
  })
  boss.on('error', (error) => console.error('pg-boss:', error.message))
  await boss.start()
  await boss.createQueue(PG_BOSS_QUEUE)
  const sender = makeSender(64)
  for (let i = 0; i < workers; i++) {
    let id = ''
    id = await boss.work<DeliveryJobData>(
      PG_BOSS_QUEUE,
      { batchSize, pollingIntervalSeconds: 0.5 },
      async (jobs) => {
        const results = await Promise.allSettled(jobs.map((job) => sender.send(job.data)))
        const failed = jobs.filter((_, j) => results[j]!.status === 'rejected').map((j) => j.id)
        if (failed.length > 0) await boss.fail(PG_BOSS_QUEUE, failed)
        if (id && jobs.length === batchSize) boss.notifyWorker(id)
      },
    )
  }
  onMessages(
    () => {},
    async () => {
      await boss.stop({ graceful: false, wait: true })
      await sender.close()
    },
  )
  reply({ type: 'ready' })
} catch (error) {
  fail(error)
}
