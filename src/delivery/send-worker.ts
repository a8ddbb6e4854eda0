// The sending thread: signs and POSTs the deliveries the main thread hands it, and hands
// back each response, so that HTTP and signing run beside the store's work, on another core.
// With a SQLite store it also checkpoints the WAL (`wal-checkpoints.ts`).
import { parentPort, workerData } from 'node:worker_threads'
import { asError } from '../errors.ts'
import type { DeliveryJob } from '../storage/types.ts'
import { HttpSender, type SendResult } from './http-sender.ts'
import { TargetPolicy, type TargetPolicyConfig } from './target-policy.ts'

export interface SendWorkerData {
  readonly timeoutMs: number
  readonly connectionsPerOrigin: number
  readonly userAgent: string
  readonly policy: TargetPolicyConfig
  /** A SQLite file whose WAL this thread checkpoints, off the store's connection. */
  readonly checkpoint?: { readonly filename: string; readonly intervalMs: number }
}

/** Main thread → sending thread. */
export type ToSender =
  | { readonly jobs: readonly (readonly [seq: number, job: DeliveryJob, nowMs: number])[] }
  | { readonly close: true }
/** Sending thread → main thread. */
export type FromSender =
  | {
      readonly ready: true
      /** Whether it checkpoints the WAL it was given, or why it could not. */
      readonly checkpoints: boolean | string
    }
  | { readonly results: readonly (readonly [seq: number, result: SendResult])[] }
  | { readonly closed: true }

const port = parentPort!
const data = workerData as SendWorkerData
const sender = new HttpSender({
  timeoutMs: data.timeoutMs,
  connectionsPerOrigin: data.connectionsPerOrigin,
  userAgent: data.userAgent,
  policy: new TargetPolicy(data.policy),
})
let stopCheckpoints: (() => void) | null = null

/** Whether it checkpoints the WAL it was given, or why it cannot. */
async function startCheckpoints(): Promise<boolean | string> {
  if (!data.checkpoint) return false
  // Sending does not depend on it: a thread that cannot checkpoint says why and sends.
  try {
    const { checkpointWal } = await import('../storage/sqlite/wal-checkpoints.ts')
    stopCheckpoints = checkpointWal(data.checkpoint.filename, data.checkpoint.intervalMs)
    return true
  } catch (error) {
    return asError(error).message
  }
}

// Responses that arrive in one turn of the event loop go back in one message.
let done: [number, SendResult][] = []
const post = (m: FromSender) => port.postMessage(m)
function finished(seq: number, result: SendResult): void {
  if (done.length === 0)
    setImmediate(() => {
      const results = done
      done = []
      post({ results })
    })
  done.push([seq, result])
}

port.on('message', (m: ToSender) => {
  if ('close' in m) {
    stopCheckpoints?.()
    void sender.close().finally(() => post({ closed: true }))
    return
  }
  for (const [seq, job, nowMs] of m.jobs)
    void sender.send(job, nowMs).then((result) => finished(seq, result))
})
void startCheckpoints().then((checkpoints) => post({ ready: true, checkpoints }))
