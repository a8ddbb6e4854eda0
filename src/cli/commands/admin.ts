import { presentAttempt, presentDelivery, presentSubscription } from '../../api/presenters.ts'
import { ValidationError } from '../../errors.ts'
import type { CliFlags } from '../../server/settings.ts'
import { withHookline } from '../project.ts'

/** `subscriptions add` options, as commander gives them. */
export interface SubscribeFlags {
  readonly ordering?: string
  readonly maxConcurrency?: string
}

const print = (value: unknown) => console.log(JSON.stringify(value, null, 2))

/**
 * `hookline migrate`: creates or upgrades Hookline's tables and refreshes the capture
 * triggers of the tracked tables (their columns may have changed).
 */
export async function migrate(flags: CliFlags): Promise<void> {
  await withHookline(flags, async (h) => {
    console.log(
      `Hookline's tables and the triggers of ${h.trackedTables.join(', ') || 'no table'} are up to date in ${h.store.description}`,
    )
  })
}

export const listEvents = (flags: CliFlags) =>
  withHookline(flags, async (h) => {
    for (const e of h.catalog.list())
      console.log(
        `${e.name.padEnd(28)} ${e.definition.table ? `[${e.definition.table}] ` : ''}${e.definition.description}`,
      )
  })

/** `hookline trigger`: stores the event's message; the running Hookline delivers it. */
export const trigger = (flags: CliFlags, event: string, rowId?: string) =>
  withHookline(flags, async (h) => {
    const id = rowId === undefined ? null : /^\d+$/.test(rowId) ? Number(rowId) : rowId
    console.log(await h.trigger(event, id))
  })

export const subscriptions = {
  list: (flags: CliFlags, q: { event?: string; url?: string }) =>
    withHookline(flags, async (h) =>
      print(
        (
          await h.subscriptions.list({
            ...(q.event ? { event: q.event } : {}),
            ...(q.url ? { targetUrl: q.url } : {}),
          })
        ).map(presentSubscription),
      ),
    ),
  add: (flags: CliFlags & SubscribeFlags, event: string, url: string) =>
    withHookline(flags, async (h) => {
      const n = flags.maxConcurrency
      const { subscription } = await h.subscriptions.subscribe({
        event,
        targetUrl: url,
        ...(flags.ordering !== undefined ? { ordering: flags.ordering } : {}),
        ...(n !== undefined ? { maxConcurrency: /^\d+$/.test(n) ? Number(n) : n } : {}),
      })
      print(presentSubscription(subscription))
    }),
  test: (flags: CliFlags, id: string) =>
    withHookline(flags, async (h) => {
      const { result: _, ...d } = await h.sendTest(id)
      print({ ...presentDelivery(d), attempt_log: d.attemptLog.map(presentAttempt) })
    }),
  recover: (flags: CliFlags, id: string, since: string) =>
    withHookline(flags, async (h) => {
      const at = Date.parse(since)
      if (Number.isNaN(at))
        throw new ValidationError(
          'invalid_request',
          `--since '${since}' is not a time: use ISO 8601`,
        )
      console.log(`re-queued ${await h.recover(id, at)} deliveries`)
    }),
  remove: (flags: CliFlags, id: string) =>
    withHookline(flags, async (h) => {
      await h.subscriptions.unsubscribe(id)
      console.log(`removed ${id}`)
    }),
}

export const changes = {
  failed: (flags: CliFlags, limit: string) =>
    withHookline(flags, async (h) => print(await h.failedChanges(Number(limit)))),
  retry: (flags: CliFlags, ids: string[]) =>
    withHookline(flags, async (h) => {
      const bad = ids.find((id) => !/^[1-9]\d*$/.test(id))
      if (bad)
        throw new ValidationError(
          'invalid_request',
          `change id '${bad}' is not a positive whole number`,
        )
      const n = await h.retryFailedChanges(ids.length > 0 ? ids.map(Number) : undefined)
      console.log(`${n} change(s) back in the log; a running Hookline processes them`)
    }),
}

export const deliveries = {
  list: (
    flags: CliFlags,
    q: { status?: string; event?: string; subscription?: string; limit: string },
  ) =>
    withHookline(flags, async (h) =>
      print(
        (
          await h.listDeliveries({
            ...(q.status ? { status: q.status } : {}),
            ...(q.event ? { event: q.event } : {}),
            ...(q.subscription ? { subscriptionId: q.subscription } : {}),
            limit: Number(q.limit),
          })
        ).map(presentDelivery),
      ),
    ),
  show: (flags: CliFlags, id: string) =>
    withHookline(flags, async (h) => {
      const d = await h.getDelivery(id)
      print({ ...presentDelivery(d), attempt_log: d.attemptLog.map(presentAttempt) })
    }),
  retry: (flags: CliFlags, id: string) =>
    withHookline(flags, async (h) => print(presentDelivery(await h.retryDelivery(id)))),
}
