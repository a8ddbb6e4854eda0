import type { DeliveryJob } from '../storage/types.ts'
import type { HttpSender, SendOptions, SendResult } from './http-sender.ts'

/**
 * `HttpSender` on the main thread (`sendThread: false`), loaded at its first send, so that
 * a process that sends from its thread never loads undici on the main thread.
 */
export class InProcessSender {
  #sender: Promise<HttpSender> | null = null

  constructor(private readonly options: SendOptions) {}

  async send(job: DeliveryJob, nowMs: number): Promise<SendResult> {
    this.#sender ??= import('./http-sender.ts').then((m) => new m.HttpSender(this.options))
    return (await this.#sender).send(job, nowMs)
  }

  async close(): Promise<void> {
    if (this.#sender) await (await this.#sender).close()
  }
}
