/** Time, injected so that tests can drive retries without sleeping. */
export interface Clock {
  now(): number
}

export const systemClock: Clock = Object.freeze({ now: () => Date.now() })
