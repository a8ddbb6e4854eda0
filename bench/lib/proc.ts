import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** A message a bench process sends to the orchestrator. */
export interface ProcMessage {
  readonly type: string
  readonly [key: string]: unknown
}

export interface Proc {
  readonly name: string
  readonly child: ChildProcess
  /** Resolves with the next message of this type (messages are buffered until asked for). */
  next<T extends ProcMessage = ProcMessage>(type: string, timeoutMs?: number): Promise<T>
  send(message: ProcMessage): void
  /** Asks the process to stop, then kills it after `graceMs`; resolves when it is gone. */
  stop(graceMs?: number): Promise<void>
}

const procsDir = new URL('../procs/', import.meta.url)
const live = new Set<Proc>()

/** Extra node flags for Hookline processes (e.g. `--cpu-prof`), set by `--profile`. */
export const hooklineNodeFlags: string[] = []

/**
 * Starts `bench/procs/<script>.ts` as its own Node process (TypeScript through tsx) with an
 * IPC channel; `args` reach it as JSON in BENCH_ARGS.
 */
export function startProc(script: string, args: unknown, nodeFlags: string[] = []): Proc {
  const file = fileURLToPath(new URL(`${script}.ts`, procsDir))
  const child = fork(file, [], {
    execArgv: ['--import', 'tsx', ...nodeFlags],
    env: { ...process.env, BENCH_ARGS: JSON.stringify(args) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  child.on('error', () => {})
  const inbox: ProcMessage[] = []
  const waiters: { type: string; resolve: (m: ProcMessage) => void }[] = []
  let exitError: Error | null = null
  const failAll = (error: Error) => {
    exitError = error
    for (const w of waiters.splice(0)) (w as any).reject?.(error)
  }
  child.on('message', (m: ProcMessage) => {
    if (m.type === 'error') {
      failAll(new Error(`${script}: ${String(m.message)}`))
      return
    }
    const i = waiters.findIndex((w) => w.type === m.type)
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(m)
    else inbox.push(m)
  })
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      failAll(new Error(`${script} exited (${code ?? signal}) before answering`))
      resolve()
    })
  })
  const proc: Proc = {
    name: script,
    child,
    next<T extends ProcMessage>(type: string, timeoutMs = 600_000): Promise<T> {
      const i = inbox.findIndex((m) => m.type === type)
      if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0] as T)
      if (exitError) return Promise.reject(exitError)
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          const j = waiters.indexOf(waiter)
          if (j >= 0) waiters.splice(j, 1)
          reject(new Error(`${script}: no '${type}' within ${timeoutMs} ms`))
        }, timeoutMs)
        const waiter = {
          type,
          resolve: (m: ProcMessage) => {
            clearTimeout(timer)
            resolve(m as T)
          },
          reject: (e: Error) => {
            clearTimeout(timer)
            reject(e)
          },
        }
        waiters.push(waiter)
      })
    },
    send(message) {
      // A process that finished may close its channel first: nothing to tell it then.
      if (child.connected) child.send(message, () => {})
    },
    async stop(graceMs = 5000) {
      if (child.exitCode === null && child.signalCode === null) {
        proc.send({ type: 'stop' })
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
        await exited
        clearTimeout(timer)
      }
      live.delete(proc)
    },
  }
  live.add(proc)
  return proc
}

/** Kills every bench process still running (on error or interrupt). */
export function killAll(): void {
  for (const p of live) if (p.child.exitCode === null) p.child.kill('SIGKILL')
  live.clear()
}

/** Inside a bench process: its arguments, and helpers to talk to the orchestrator. */
export function procArgs<T>(): T {
  return JSON.parse(process.env.BENCH_ARGS ?? '{}') as T
}

export function reply(message: ProcMessage): void {
  process.send?.(message)
}

/** Calls `handler` for each orchestrator message; 'stop' calls `onStop` then exits. */
export function onMessages(
  handler: (m: ProcMessage) => void | Promise<void>,
  onStop: () => void | Promise<void> = () => {},
): void {
  process.on('message', async (m: ProcMessage) => {
    try {
      if (m.type === 'stop') {
        await onStop()
        process.exit(0)
      }
      await handler(m)
    } catch (error) {
      reply({ type: 'error', message: (error as Error).stack ?? String(error) })
    }
  })
  // The orchestrator is gone: so is this process.
  process.on('disconnect', () => process.exit(0))
}

/** Reports a start-up failure to the orchestrator and exits. */
export function fail(error: unknown): never {
  reply({ type: 'error', message: (error as Error).stack ?? String(error) })
  setTimeout(() => process.exit(1), 100)
  throw error
}

/** Epoch milliseconds with sub-millisecond precision, comparable across processes. */
export const epochMs = (): number => performance.timeOrigin + performance.now()
