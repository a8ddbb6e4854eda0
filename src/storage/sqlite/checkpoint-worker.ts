// The checkpoint thread: copies a SQLite file's WAL back into the file every `intervalMs`
// (`checkpointWal`), so that neither the store's connection nor the sending thread stalls
// on those copies and their fsyncs.
import { parentPort, workerData } from 'node:worker_threads'
import { asError } from '../../errors.ts'
import { checkpointWal } from './wal-checkpoints.ts'

export interface CheckpointWorkerData {
  readonly filename: string
  readonly intervalMs: number
}

/** Checkpoint thread → main thread: it checkpoints, or why it cannot. */
export type FromCheckpointer = { readonly started: true } | { readonly failed: string }

const port = parentPort!
const { filename, intervalMs } = workerData as CheckpointWorkerData
try {
  const stop = checkpointWal(filename, intervalMs)
  // Any message asks it to stop: the thread ends once its connection is closed.
  port.once('message', () => {
    stop()
    port.close()
  })
  port.postMessage({ started: true } satisfies FromCheckpointer)
} catch (error) {
  port.postMessage({ failed: asError(error).message } satisfies FromCheckpointer)
  port.close()
}
