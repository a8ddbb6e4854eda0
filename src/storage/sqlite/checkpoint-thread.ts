import { Worker } from 'node:worker_threads'
import { threadScript } from '../../thread-script.ts'
import type { CheckpointWorkerData, FromCheckpointer } from './checkpoint-worker.ts'

/**
 * A thread of its own that checkpoints a SQLite file's WAL (`checkpoint-worker.ts`): each
 * checkpoint copies pages and fsyncs the file, milliseconds on a slow disk, that would
 * otherwise hold up whichever thread made it (the store's connection past SQLite's 1,000
 * WAL pages, or the sending thread between two deliveries). It does not keep the process
 * alive.
 */
export class CheckpointThread {
  readonly #ended: Promise<void>

  private constructor(readonly thread: Worker) {
    this.#ended = new Promise((resolve) => thread.once('exit', () => resolve()))
  }

  /**
   * Starts checkpointing `filename` every `intervalMs`; rejects with why it cannot.
   * `onFailure` hears of a thread that fails later (it then ends).
   */
  static async start(
    filename: string,
    intervalMs: number,
    onFailure: (error: Error) => void,
  ): Promise<CheckpointThread> {
    const worker = new Worker(threadScript(new URL('./checkpoint-worker.ts', import.meta.url)), {
      eval: true,
      workerData: { filename, intervalMs } satisfies CheckpointWorkerData,
    })
    worker.unref()
    const answer = await new Promise<FromCheckpointer>((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
      worker.once('exit', (code) =>
        reject(new Error(`the checkpoint thread ended (exit code ${code})`)),
      )
    })
    if ('failed' in answer) {
      await worker.terminate()
      throw new Error(answer.failed)
    }
    worker.on('error', onFailure)
    return new CheckpointThread(worker)
  }

  /** Stops checkpointing, closes the thread's connection and ends it. */
  async stop(): Promise<void> {
    this.thread.postMessage('stop')
    await this.#ended
  }
}
