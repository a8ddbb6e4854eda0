import { readFileSync } from 'node:fs'

/** Hookline's version, from its package.json. */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
).version

/** The `user-agent` of Hookline's webhook requests. */
export const USER_AGENT = `Hookline/${VERSION}`
