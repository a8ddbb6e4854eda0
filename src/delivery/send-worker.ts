// The sending thread: signs and POSTs the deliveries the main thread hands it, and hands
// back each response, so that HTTP and signing run beside the store's work, on another core.
import { parentPort, workerData } from 'node:worker_threads'
import type { DeliveryJob } from '../storage/types.ts'
import { HttpSender, type SendResult } from './http-sender.ts'
import { TargetPolicy, type TargetPolicyConfig } from './target-policy.ts'

export interface SendWorkerData {
  readonly timeoutMs: number
  readonly connectionsPerOrigin: number
  readonly userAgent: string
  readonly policy: TargetPolicyConfig
}

/** Main thread → sending thread. */
export type ToSender =
  | { readonly jobs: readonly (readonly [seq: number, job: DeliveryJob, nowMs: number])[] }
  | { readonly close: true }
/** Sending thread → main thread. */
export type FromSender =
  | { readonly ready: true }
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
    void sender.close().finally(() => post({ closed: true }))
    return
  }
  for (const [seq, job, nowMs] of m.jobs)
    void sender.send(job, nowMs).then((result) => finished(seq, result))
})
post({ ready: true })
