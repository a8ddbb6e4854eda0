/**
 * A resettable wake-up: `wait(ms)` resolves on `wake()` or after `ms`, whichever is first.
 * A wake that comes while nobody waits is remembered, so none is lost between checks.
 */
export class WakeSignal {
  #pending = false
  #resolve: (() => void) | null = null
  #timer: NodeJS.Timeout | null = null

  wake(): void {
    if (this.#resolve) this.#finish()
    else this.#pending = true
  }

  wait(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false
      return Promise.resolve()
    }
    return new Promise((resolve) => {
      this.#resolve = resolve
      this.#timer = setTimeout(() => this.#finish(), Math.max(0, ms))
    })
  }

  #finish() {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    const resolve = this.#resolve
    this.#resolve = null
    resolve?.()
  }
}
