import { describe, expect, it } from 'vitest'
import { WorkLoop } from '../../src/capture/work-loop.ts'

describe('a work loop', () => {
  it('lets the event loop run between steps that ask to run again at once', async () => {
    // Steps that never wait for I/O (as SQLite's are): a timer due meanwhile still fires
    // after a step, not once the run of steps ends.
    let steps = 0
    let stepsWhenTimerFired = -1
    const loop = new WorkLoop(
      async () => {
        steps++
        return steps < 10_000 ? 0 : 60_000
      },
      (error) => {
        throw error
      },
      1000,
    )
    setTimeout(() => {
      stepsWhenTimerFired = steps
    }, 1)
    loop.start()
    await new Promise((r) => setTimeout(r, 50))
    await loop.stop()
    expect(stepsWhenTimerFired).toBeGreaterThan(0)
    expect(stepsWhenTimerFired).toBeLessThan(10_000)
  })
})
