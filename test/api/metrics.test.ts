import { describe, expect, it } from 'vitest'
import { startReceiver } from '../helpers/receiver.ts'
import { expectError, useApi } from './harness.ts'

const api = useApi()

describe('GET /metrics', () => {
  it('exposes Prometheus metrics that follow deliveries and the change log, behind the API key', async () => {
    const r = await startReceiver()
    try {
      await api.current.call('POST', '/api/v1/webhooks/subscribe', {
        json: { event: 'NewOpportunity', url: r.url },
      })
      api.current.sql("INSERT INTO deal (name, amount, is_project) VALUES ('Metered', 1, 1)")
      let res = await api.current.call('GET', '/metrics')
      expect(res.text).toMatch(/^hookline_changes_pending 1$/m)
      await api.current.hookline.drain()
      res = await api.current.call('GET', '/metrics')
      expect(res.status).toBe(200)
      expect(String(res.headers['content-type'])).toMatch(/^text\/plain/)
      expect(res.text).toMatch(
        /^hookline_delivery_attempts_total\{event="NewOpportunity",outcome="succeeded"\} 1$/m,
      )
      expect(res.text).toMatch(/^hookline_changes_processed_total 1$/m)
      expect(res.text).toMatch(/^hookline_changes_pending 0$/m)
      expect(res.text).toMatch(/^hookline_delivery_duration_seconds_count 1$/m)
      expectError(
        await api.current.call('GET', '/metrics', { anonymous: true }),
        401,
        'unauthorized',
      )
    } finally {
      await r.close()
    }
  })
})
