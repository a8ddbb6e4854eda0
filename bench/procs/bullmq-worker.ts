// Do-it-yourself baseline: a BullMQ worker on the local Redis POSTing each job with undici.
// Tuning: 128 jobs in flight (as many as the bare-undici pool keeps outstanding), 64
// keep-alive connections per origin, jobs removed on completion (no Redis growth).
import { Worker } from 'bullmq'
import { bullmqConnection, type DeliveryJobData, makeSender } from '../lib/baselines.ts'
import { fail, onMessages, procArgs, reply } from '../lib/proc.ts'

interface Args {
  readonly queue: string
  readonly concurrency: number
}

try {
  const { queue, concurrency } = procArgs<Args>()
  const sender = makeSender(64)
  const worker = new Worker<DeliveryJobData>(queue, (job) => sender.send(job.data), {
    connection: bullmqConnection(),
    concurrency,
  })
  await worker.waitUntilReady()
  onMessages(
    () => {},
    async () => {
      await worker.close(true)
      await sender.close()
    },
  )
  reply({ type: 'ready' })
} catch (error) {
  fail(error)
}
