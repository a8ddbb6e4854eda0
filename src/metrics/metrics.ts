import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { Hookline } from '../hookline.ts'

/**
 * Prometheus metrics of one Hookline: counters fed by its events, gauges read from the
 * store when scraped. One registry per Hookline, so several can live in one process.
 */
export function createMetrics(hookline: Hookline): Registry {
  const registry = new Registry()
  const attempts = new Counter({
    name: 'hookline_delivery_attempts_total',
    help: 'Delivery attempts, by event and outcome (succeeded, failed, dead)',
    labelNames: ['event', 'outcome'] as const,
    registers: [registry],
  })
  const duration = new Histogram({
    name: 'hookline_delivery_duration_seconds',
    help: 'Duration of delivery attempts, from request to response',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  })
  const changes = new Counter({
    name: 'hookline_changes_processed_total',
    help: 'Captured row changes consumed',
    registers: [registry],
  })
  const messages = new Counter({
    name: 'hookline_messages_total',
    help: 'Messages created from captured changes',
    registers: [registry],
  })
  const failedChanges = new Counter({
    name: 'hookline_changes_failed_total',
    help: 'Changes set aside because their tracking handler or payload builder failed',
    registers: [registry],
  })
  new Gauge({
    name: 'hookline_changes_pending',
    help: 'Captured changes not yet consumed',
    registers: [registry],
    async collect() {
      this.set(await hookline.store.countPendingChanges())
    },
  })
  new Gauge({
    name: 'hookline_next_delivery_due_seconds',
    help: 'Seconds until the next delivery falls due (negative: overdue), 0 when none waits',
    registers: [registry],
    async collect() {
      const due = await hookline.store.nextDueAt()
      this.set(due === null ? 0 : (due - hookline.clock.now()) / 1000)
    },
  })

  hookline.on('delivery:attempted', (a) => {
    attempts.inc({ event: a.event, outcome: a.status })
    duration.observe(a.durationMs / 1000)
  })
  hookline.on('change:processed', (c) => {
    changes.inc(c.changes)
    messages.inc(c.messages)
  })
  hookline.on('change:failed', () => failedChanges.inc())
  return registry
}
