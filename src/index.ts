/**
 * Hookline: webhook events for database-backed applications.
 *
 * @example
 * import { createHookline, defineEvent, defineTracking } from 'hookline'
 */
export { buildApi } from './api/build-api.ts'
export type { Clock } from './clock.ts'
export {
  type CaptureConfig,
  type DatabaseConfig,
  type DeliveryConfig,
  defineConfig,
  type HooklineConfig,
  type ServerConfig,
} from './config/define-config.ts'
export { DEFAULT_RETRY_SCHEDULE, nextAttemptAt } from './delivery/retry-schedule.ts'
export {
  ConfigError,
  HooklineError,
  NonRetriableError,
  NotFoundError,
  RetryAfterError,
  ValidationError,
} from './errors.ts'
export { type BuildContext, defineEvent, type EventDefinition } from './events/define-event.ts'
export type { Envelope } from './events/envelope.ts'
export { createHookline, Hookline, type HooklineOptions } from './hookline.ts'
export type { HooklineEventMap } from './hookline-events.ts'
export type { Change, Db, RowId, Subscription } from './storage/types.ts'
export {
  type Binding,
  defineTracking,
  type TrackingContext,
  type TrackingDefinition,
} from './tracking/define-tracking.ts'
