import { createHash } from 'node:crypto'
import { derivedId, newId } from '../ids.ts'
import type { Change, NewMessage, RowId } from '../storage/types.ts'

/** The body of every delivery (Standard Webhooks): `{ id, type, timestamp, data }`. */
export interface Envelope<T = unknown> {
  readonly id: string
  readonly type: string
  readonly timestamp: string
  readonly data: T
}

export function envelope<T>(id: string, type: string, at: number, data: T): Envelope<T> {
  return { id, type, timestamp: new Date(at).toISOString(), data }
}

/**
 * A new message: its envelope is serialised here, once, and sent as is on every attempt.
 * Its id is new, unless given (`derivedId`); `onlySubscriptionId` makes it a test send.
 */
export function newMessage(
  event: string,
  rowId: RowId | null,
  data: unknown,
  at: number,
  { id = newId('msg', at), onlySubscriptionId }: { id?: string; onlySubscriptionId?: string } = {},
): NewMessage {
  return {
    id,
    event,
    rowId,
    body: JSON.stringify(envelope(id, event, at, data)),
    createdAt: at,
    ...(onlySubscriptionId ? { onlySubscriptionId } : {}),
  }
}

/**
 * The id of the `ordinal`-th message a change fired, derived from a store's seed
 * (`Store.changeMessageSeed`): the same whenever the change is consumed again.
 */
export function changeMessageId(seed: string, change: Change, ordinal: number, event: string) {
  return derivedId('msg', change.createdAt, `${seed}:${change.id}:${ordinal}:${event}`)
}

/** A stable id for a perform-list sample, so that clients which de-duplicate by id see one item per row. */
export function sampleId(event: string, rowId: RowId | null): string {
  const hash = createHash('sha256')
    .update(`${event}:${rowId ?? 'sample'}`)
    .digest('hex')
  return `msg_sample_${hash.slice(0, 24)}`
}
