import type { Clock } from '../clock.ts'
import type { TargetPolicy } from '../delivery/target-policy.ts'
import { NotFoundError, ValidationError } from '../errors.ts'
import type { EventCatalog } from '../events/event-catalog.ts'
import { newId } from '../ids.ts'
import { generateSecret } from '../signing/standard-webhooks.ts'
import type { Store } from '../storage/store.ts'
import type { Ordering, Subscription, SubscriptionFilter } from '../storage/types.ts'
import { checkHeaders, checkTargetUrl } from './target-url.ts'

export interface SubscribeInput {
  readonly event: string
  readonly targetUrl: string
  readonly headers?: Record<string, unknown>
  readonly ordering?: string
  readonly maxConcurrency?: unknown
}

export interface SubscriptionUpdate {
  readonly status?: string
  readonly targetUrl?: string
  readonly headers?: Record<string, unknown>
  readonly ordering?: string
  /** null: back to the process's default. */
  readonly maxConcurrency?: unknown
}

/** The most attempts in flight one subscription may ask for. */
export const MAX_CONCURRENCY_LIMIT = 1000

function checkMaxConcurrency(value: unknown): number | null {
  if (value === null) return null
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < 1 ||
    value > MAX_CONCURRENCY_LIMIT
  )
    throw new ValidationError(
      'invalid_request',
      `max_concurrency ${JSON.stringify(value)} is not allowed: give a whole number from 1 to ${MAX_CONCURRENCY_LIMIT}, or null for the default`,
      { field: 'max_concurrency' },
    )
  return value
}

function checkOrdering(value: string): Ordering {
  if (value !== 'concurrent' && value !== 'strict')
    throw new ValidationError(
      'invalid_request',
      `ordering '${value}' is not allowed: use 'concurrent' or 'strict'`,
      {
        field: 'ordering',
      },
    )
  return value
}

/** REST Hooks subscriptions: the rules shared by the HTTP API, the CLI and embedded use. */
export class SubscriptionService {
  constructor(
    private readonly store: Store,
    private readonly catalog: EventCatalog,
    private readonly clock: Clock,
    private readonly rotationGraceMs: number,
    private readonly targets: TargetPolicy,
  ) {}

  /** A valid target URL that the target policy allows, normalised. */
  async #target(value: string): Promise<string> {
    const url = checkTargetUrl(value)
    await this.targets.check(url)
    return url
  }

  /** Subscribes a URL to an event; the same event and URL again returns the existing one. */
  async subscribe(
    input: SubscribeInput,
  ): Promise<{ subscription: Subscription; created: boolean }> {
    this.catalog.get(input.event)
    const headers = checkHeaders(input.headers ?? {})
    const ordering = checkOrdering(input.ordering ?? 'concurrent')
    const maxConcurrency = checkMaxConcurrency(input.maxConcurrency ?? null)
    const targetUrl = await this.#target(input.targetUrl)
    const now = this.clock.now()
    const result = await this.store.createSubscription({
      id: newId('sub', now),
      event: input.event,
      targetUrl,
      secret: generateSecret(),
      headers,
      now,
      ordering,
      maxConcurrency,
    })
    // Subscribing again to a disabled subscription means "deliver to me": it is re-enabled
    // (with a clean record) rather than handed back silent.
    if (!result.created && result.subscription.status === 'disabled') {
      const enabled = await this.store.updateSubscription(
        result.subscription.id,
        { status: 'active' },
        now,
      )
      if (enabled) return { subscription: enabled, created: false }
    }
    return result
  }

  /** Removes a subscription; removing a removed one is fine. Throws only if it never existed. */
  async unsubscribe(id: string): Promise<void> {
    if (!(await this.store.removeSubscription(id, this.clock.now())))
      throw new NotFoundError('subscription_not_found', `no subscription has id '${id}'`)
  }

  /** Removes every subscription of a URL (for one event, or all). Returns how many. */
  async unsubscribeByUrl(targetUrl: string, event?: string): Promise<number> {
    const url = checkTargetUrl(targetUrl)
    const subs = await this.store.listSubscriptions({ targetUrl: url, ...(event ? { event } : {}) })
    for (const s of subs) await this.store.removeSubscription(s.id, this.clock.now())
    return subs.length
  }

  async get(id: string): Promise<Subscription> {
    const sub = await this.store.getSubscription(id)
    if (!sub || sub.status === 'removed')
      throw new NotFoundError('subscription_not_found', `no subscription has id '${id}'`)
    return sub
  }

  list(filter: SubscriptionFilter): Promise<Subscription[]> {
    const targetUrl = filter.targetUrl === undefined ? undefined : checkTargetUrl(filter.targetUrl)
    return this.store.listSubscriptions({ ...filter, ...(targetUrl ? { targetUrl } : {}) })
  }

  async update(id: string, update: SubscriptionUpdate): Promise<Subscription> {
    if (update.status !== undefined && update.status !== 'active' && update.status !== 'disabled')
      throw new ValidationError(
        'invalid_status',
        `status '${update.status}' is not allowed: use 'active' or 'disabled'`,
      )
    const sub = await this.store.updateSubscription(
      id,
      {
        ...(update.status
          ? {
              status: update.status,
              disabledReason: update.status === 'disabled' ? 'disabled by an API client' : null,
            }
          : {}),
        ...(update.headers !== undefined ? { headers: checkHeaders(update.headers) } : {}),
        ...(update.ordering !== undefined ? { ordering: checkOrdering(update.ordering) } : {}),
        ...(update.maxConcurrency !== undefined
          ? { maxConcurrency: checkMaxConcurrency(update.maxConcurrency) }
          : {}),
        ...(update.targetUrl !== undefined
          ? { targetUrl: await this.#target(update.targetUrl) }
          : {}),
      },
      this.clock.now(),
    )
    if (!sub) throw new NotFoundError('subscription_not_found', `no subscription has id '${id}'`)
    return sub
  }

  /** A new secret; the old one keeps signing (both signatures sent) for the grace period. */
  async rotateSecret(id: string): Promise<Subscription> {
    const now = this.clock.now()
    const sub = await this.store.rotateSecret(id, generateSecret(), now + this.rotationGraceMs, now)
    if (!sub) throw new NotFoundError('subscription_not_found', `no subscription has id '${id}'`)
    return sub
  }
}
