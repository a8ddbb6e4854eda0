import Database from 'better-sqlite3'
import { afterEach } from 'vitest'
import type { DeliveryConfig } from '../../src/config/define-config.ts'
import type { Hookline } from '../../src/hookline.ts'
import { demoHookline, manualClock } from './demo.ts'
import { type Receiver, startReceiver } from './receiver.ts'
import { tempDbPath, tempDir } from './temp.ts'

/**
 * Per-test demo Hookline on a fresh SQLite file with a manual clock (starting now, so that
 * Standard Webhooks timestamps verify), fixed jitter, and loopback receivers; all closed
 * after each test.
 */
export function deliveryFixture() {
  const dir = tempDir()
  const opened: { hookline?: Hookline; receivers: Receiver[]; apps: Database.Database[] } = {
    receivers: [],
    apps: [],
  }
  afterEach(async () => {
    for (const a of opened.apps.splice(0)) a.close()
    await opened.hookline?.stop()
    opened.hookline = undefined
    for (const r of opened.receivers.splice(0)) await r.close()
  })
  return {
    async receiver(): Promise<Receiver> {
      const r = await startReceiver()
      opened.receivers.push(r)
      return r
    },
    async setup(delivery: DeliveryConfig = {}) {
      const file = tempDbPath(dir)
      const clock = manualClock(Date.now())
      const hookline = await demoHookline(`sqlite:${file}`, {
        clock,
        random: () => 0.5,
        delivery: { timeoutMs: 2000, ...delivery },
      })
      opened.hookline = hookline
      const app = new Database(file)
      opened.apps.push(app)
      const insertDeal = (name: string) =>
        Number(
          app.prepare('INSERT INTO deal (name, amount, is_project) VALUES (?, 100, 1)').run(name)
            .lastInsertRowid,
        )
      return { hookline, clock, insertDeal, app }
    },
  }
}
