import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { REPO_ROOT } from './demo.ts'

/** The banner line of `hookline start` and `dev`, with the API's URL. */
const API_BANNER = /API on (http:\/\/\S+?),/
/** The banner line of `hookline worker`. */
export const WORKER_BANNER = /Hookline worker: capture and delivery on /

export interface CliProcess {
  readonly child: ChildProcess
  /** The API's base URL, read from the banner ('' for a worker). */
  readonly url: string
  readonly output: () => string
  /** SIGTERM, then SIGKILL after a grace period; resolves when the process is gone. */
  stop(): Promise<void>
}

/**
 * Runs `hookline <args>` as a real process and waits until it prints its banner: the API
 * URL, or `WORKER_BANNER` for `hookline worker`.
 */
export async function startCli(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 30_000,
  banner: RegExp = API_BANNER,
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
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`hookline did not start in ${timeoutMs} ms:\n${out}`))
    }, timeoutMs)
    const check = () => {
      const m = banner.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m[1] ?? '')
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

/** Runs a `hookline <args>` command to its end; never rejects on a non-zero exit. */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/hookline.mjs', ...args],
      { cwd: REPO_ROOT, env: { ...process.env, ...env }, timeout: 30_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    )
  })
}
