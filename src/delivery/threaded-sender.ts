import { Worker } from 'node:worker_threads'
import type { DeliveryJob } from '../storage/types.ts'
import { threadScript } from '../thread-script.ts'
import { USER_AGENT } from '../version.ts'
import type { SendOptions, SendResult } from './http-sender.ts'
import type { FromSender, SendWorkerData, ToSender } from './send-worker.ts'

const threadEnded = (code: number) => new Error(`the sending thread ended (exit code ${code})`)

interface Pending {
  readonly resolve: (result: SendResult) => void
  readonly reject: (error: Error) => void
}

/**
 * Sends deliveries from a worker thread (`send-worker.ts`), with the same `send` as
 * `HttpSender`: signing, HTTP and reading responses leave the main thread to the store's
 * work. Jobs started in one turn go to the thread in one message, and its responses come
 * back the same way. The thread starts with `start()` (or the first send); if it dies, the
 * attempts in it fail (their leases run out and they are sent again) and the next send
 * starts another.
 */
export class ThreadedSender {
  #worker: Worker | null = null
  #seq = 0
  readonly #pending = new Map<number, Pending>()
  #outbox: [number, DeliveryJob, number][] = []

  constructor(
    private readonly options: Omit<SendOptions, 'policy' | 'userAgent'> &
      Pick<SendWorkerData, 'policy'>,
  ) {}

  send(job: DeliveryJob, nowMs: number): Promise<SendResult> {
    const seq = ++this.#seq
    if (this.#outbox.length === 0) queueMicrotask(() => this.#post())
    this.#outbox.push([seq, job, nowMs])
    // The thread keeps the process alive only while attempts are in it.
    if (this.#pending.size === 0) this.#worker?.ref()
    return new Promise((resolve, reject) => this.#pending.set(seq, { resolve, reject }))
  }

  /** Starts the thread; resolves once it is ready to send. A thread that fails to start rejects. */
  start(): Promise<void> {
    const worker = this.#thread()
    return new Promise((resolve, reject) => {
      const ready = (m: FromSender) => {
        if (!('ready' in m)) return
        worker.off('message', ready)
        if (this.#pending.size === 0) worker.unref()
        resolve()
      }
      worker.on('message', ready)
      worker.once('error', reject)
      worker.once('exit', (code) => reject(threadEnded(code)))
    })
  }

  /** The sending thread while it runs (tests). */
  get thread(): Worker | null {
    return this.#worker
  }

  /** Closes the thread's connections and ends it. */
  async close(): Promise<void> {
    const worker = this.#worker
    if (!worker) return
    const closed = new Promise<void>((resolve) => {
      worker.on('message', (m: FromSender) => 'closed' in m && resolve())
      worker.once('exit', () => resolve())
    })
    worker.postMessage({ close: true } satisfies ToSender)
    await closed
    this.#worker = null
    await worker.terminate()
  }

  #post(): void {
    const jobs = this.#outbox
    this.#outbox = []
    this.#thread().postMessage({ jobs } satisfies ToSender)
  }

  #thread(): Worker {
    if (this.#worker) return this.#worker
    const data: SendWorkerData = {
      timeoutMs: this.options.timeoutMs,
      connectionsPerOrigin: this.options.connectionsPerOrigin,
      userAgent: USER_AGENT,
      policy: this.options.policy,
    }
    const worker = new Worker(threadScript(new URL('./send-worker.ts', import.meta.url)), {
      eval: true,
      workerData: data,
      // V8's own young generation: requests in flight outlive a small one and are promoted,
      // to be swept from the old one (capped at 4 MB, GC took a third of the thread's
      // time). Draining 1,000,000 deliveries: capped at 16 MB with undici loaded on the
      // main thread too, 11,207/s at a peak of 282–283 MB; uncapped, with undici left to
      // this thread (`InProcessSender`), 12,434–12,780/s at 281–282 MB.
    })
    worker.on('message', (m: FromSender) => {
      if (!('results' in m)) return
      for (const [seq, result] of m.results) {
        this.#pending.get(seq)?.resolve(result)
        this.#pending.delete(seq)
      }
      if (this.#pending.size === 0) worker.unref()
    })
    const fail = (error: Error) => {
      if (this.#worker === worker) this.#worker = null
      for (const p of this.#pending.values()) p.reject(error)
      this.#pending.clear()
    }
    worker.on('error', fail)
    worker.on('exit', (code) => fail(threadEnded(code)))
    this.#worker = worker
    return worker
  }
}
