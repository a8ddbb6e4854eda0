// A worker thread's entry: tsx first, so that the thread can load Hookline's TypeScript
// sources as the main thread does, then the module named in workerData.entry.
import { workerData } from 'node:worker_threads'
import { register } from 'tsx/esm/api'

register()
await import(workerData.entry)
