import { asError } from '../errors.ts'
import { WakeSignal } from './wake-signal.ts'

/**
 * A background loop: runs `step` until stopped; `step` returns how long to sleep before
 * the next run (0: run again at once). `nudge()` cuts a sleep short. Errors are reported
 * and followed by a sleep of `errorWaitMs`, so a broken database is retried, not spun on.
 */
export class WorkLoop {
  readonly #signal = new WakeSignal()
  #running = false
  #loop: Promise<void> | null = null

  constructor(
    private readonly step: () => Promise<number>,
    private readonly onError: (error: Error) => void,
    private readonly errorWaitMs: number,
  ) {}

  start(): void {
    if (this.#running) return
    this.#running = true
    this.#loop = this.#run()
  }

  /** Ends the loop after the step in progress. Idempotent. */
  async stop(): Promise<void> {
    if (!this.#running) return
    this.#running = false
    this.#signal.wake()
    await this.#loop
  }

  nudge(): void {
    this.#signal.wake()
  }

  async #run(): Promise<void> {
    while (this.#running) {
      try {
        const wait = await this.step()
        if (wait > 0) await this.#signal.wait(wait)
        // Steps on SQLite resolve without waiting for I/O: yield to the event loop (attempts
        // that ended, requests) between them, or a run of steps holds it back throughout.
        else await new Promise((resolve) => setImmediate(resolve))
      } catch (error) {
        this.onError(asError(error))
        await this.#signal.wait(this.errorWaitMs)
      }
    }
  }
}
