import { EventEmitter } from 'node:events'
import type { AttemptResult, Change } from './storage/types.ts'

/** What a running Hookline reports, as typed `noun:verb` events. */
export interface HooklineEventMap {
  'change:processed': [{ changes: number; messages: number; deliveries: number }]
  'change:failed': [{ change: Change; error: Error }]
  'delivery:attempted': [AttemptResult]
  'capture:error': [Error]
  'delivery:error': [Error]
}

export class HooklineEmitter extends EventEmitter<HooklineEventMap> {}
