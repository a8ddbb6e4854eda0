import { type ChildProcess, spawn } from 'node:child_process'
import { REPO_ROOT } from './demo.ts'

export interface CliProcess {
  readonly child: ChildProcess
  /** The API's base URL, read from the banner. */
  readonly url: string
  readonly output: () => string
  /** SIGTERM, then SIGKILL after a grace period; resolves when the process is gone. */
  stop(): Promise<void>
}

/** Runs `hookline <args>` as a real process and waits until it prints its API URL. */
export async function startCli(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<CliProcess> {
  const child = spawn(process.execPath, ['bin/hookline.mjs', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString()
  })
  child.stderr!.on('data', (d: Buffer) => {
    out += d.toString()
  })
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`hookline did not start in ${timeoutMs} ms:\n${out}`)),
      timeoutMs,
    )
    const check = () => {
      const m = /API on (http:\/\/\S+?),/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m[1]!)
      }
    }
    child.stdout!.on('data', check)
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`hookline exited with ${code}:\n${out}`))
    })
  })
  return {
    child,
    url,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await gone
      clearTimeout(timer)
    },
  }
}
