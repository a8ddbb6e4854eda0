import { describe, expect, it } from 'vitest'
import { isTransientError } from '../../src/storage/transient-error.ts'

describe('isTransientError', () => {
  it.each([
    { code: 'SQLITE_BUSY' },
    { code: 'ECONNRESET' },
    { code: '57P01' }, // admin shutdown
    { code: '08006' }, // connection failure
    { code: '40P01' }, // deadlock
    { code: '53300' }, // too many connections
    new Error('Connection terminated unexpectedly'),
  ])('retries %o', (error) => {
    expect(isTransientError(error)).toBe(true)
  })
  it.each([
    { code: '42P01' },
    { code: 'row_not_found' },
    new Error('Cannot read properties of undefined'),
    null,
  ])('sets aside %o', (error) => {
    expect(isTransientError(error)).toBe(false)
  })
})
