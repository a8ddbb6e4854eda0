import { type Static, Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import { ValidationError } from '../../errors.ts'
import type { Hookline } from '../../hookline.ts'
import { presentAttempt, presentDelivery, presentSubscription } from '../presenters.ts'
import {
  DeliveryWithAttempts,
  IdParams,
  PatchSubscriptionBody,
  RecoverBody,
  SubscribeBody,
  Subscription,
  SubscriptionQuery,
  TARGET_URL_ALIASES,
  UnsubscribeBody,
} from '../schemas.ts'
import { noBody } from './no-body.ts'

/** The one target URL of a body that may name it under any of the aliases. */
function targetUrlOf(body: Record<string, unknown>, required: boolean): string | undefined {
  const given = TARGET_URL_ALIASES.filter((k) => body[k] !== undefined)
  const values = new Set(given.map((k) => body[k] as string))
  if (values.size > 1)
    throw new ValidationError(
      'invalid_request',
      `the body names several different target URLs (${given.join(', ')}): send one, as target_url`,
    )
  const [url] = values
  if (url === undefined && required)
    throw new ValidationError(
      'invalid_request',
      `missing field 'target_url' in the body (also accepted: ${TARGET_URL_ALIASES.slice(1).join(', ')})`,
      {
        field: 'target_url',
      },
    )
  return url
}

const BASE = '/api/v1/webhooks'
const tag = 'subscriptions'

export function subscriptionRoutes(app: FastifyInstance, hookline: Hookline): void {
  const service = hookline.subscriptions

  app.post<{ Body: Static<typeof SubscribeBody> }>(
    `${BASE}/subscribe`,
    {
      schema: {
        body: SubscribeBody,
        doc: {
          summary: 'Subscribe a target URL to an event',
          tag,
          status: 201,
          response: Subscription,
        },
      },
    },
    async (req, reply) => {
      const { subscription, created } = await service.subscribe({
        event: req.body.event,
        targetUrl: targetUrlOf(req.body, true)!,
        ...(req.body.headers ? { headers: req.body.headers } : {}),
        ...(req.body.ordering ? { ordering: req.body.ordering } : {}),
        ...(req.body.max_concurrency !== undefined
          ? { maxConcurrency: req.body.max_concurrency }
          : {}),
      })
      return reply
        .status(created ? 201 : 200)
        .header('location', `${BASE}/subscriptions/${subscription.id}`)
        .send(presentSubscription(subscription))
    },
  )

  app.post<{ Body: Static<typeof UnsubscribeBody> }>(
    `${BASE}/unsubscribe`,
    {
      schema: {
        body: UnsubscribeBody,
        doc: { summary: 'Unsubscribe a target URL', tag, status: 204 },
      },
    },
    async (req, reply) => {
      await service.unsubscribeByUrl(targetUrlOf(req.body, true)!, req.body.event)
      return reply.status(204).send()
    },
  )

  app.get<{ Querystring: Static<typeof SubscriptionQuery> }>(
    `${BASE}/subscriptions`,
    {
      schema: {
        querystring: SubscriptionQuery,
        doc: { summary: 'List subscriptions', tag, response: Type.Array(Subscription) },
      },
    },
    async (req) => {
      const subs = await service.list({
        ...(req.query.event ? { event: req.query.event } : {}),
        ...(req.query.target_url ? { targetUrl: req.query.target_url } : {}),
      })
      return subs.map(presentSubscription)
    },
  )

  app.get<{ Params: Static<typeof IdParams> }>(
    `${BASE}/subscriptions/:id`,
    {
      schema: {
        params: IdParams,
        doc: { summary: 'Read a subscription', tag, response: Subscription },
      },
    },
    async (req) => presentSubscription(await service.get(req.params.id)),
  )

  app.patch<{ Params: Static<typeof IdParams>; Body: Static<typeof PatchSubscriptionBody> }>(
    `${BASE}/subscriptions/:id`,
    {
      schema: {
        params: IdParams,
        body: PatchSubscriptionBody,
        doc: { summary: 'Update a subscription', tag, response: Subscription },
      },
    },
    async (req) =>
      presentSubscription(
        await service.update(req.params.id, {
          ...(req.body.status !== undefined ? { status: req.body.status } : {}),
          ...(req.body.target_url !== undefined ? { targetUrl: req.body.target_url } : {}),
          ...(req.body.headers !== undefined ? { headers: req.body.headers } : {}),
          ...(req.body.ordering !== undefined ? { ordering: req.body.ordering } : {}),
          ...(req.body.max_concurrency !== undefined
            ? { maxConcurrency: req.body.max_concurrency }
            : {}),
        }),
      ),
  )

  app.delete<{ Params: Static<typeof IdParams> }>(
    `${BASE}/subscriptions/:id`,
    {
      preValidation: noBody,
      schema: { params: IdParams, doc: { summary: 'Unsubscribe by id', tag, status: 204 } },
    },
    async (req, reply) => {
      await service.unsubscribe(req.params.id)
      return reply.status(204).send()
    },
  )

  app.post<{ Params: Static<typeof IdParams> }>(
    `${BASE}/subscriptions/:id/rotate-secret`,
    {
      preValidation: noBody,
      schema: {
        params: IdParams,
        doc: { summary: 'Rotate the signing secret', tag, response: Subscription },
      },
    },
    async (req) => presentSubscription(await service.rotateSecret(req.params.id)),
  )

  app.post<{ Params: Static<typeof IdParams> }>(
    `${BASE}/subscriptions/:id/test`,
    {
      preValidation: noBody,
      schema: {
        params: IdParams,
        doc: {
          summary: "Deliver the event's sample to this subscription now",
          tag,
          response: DeliveryWithAttempts,
        },
      },
    },
    async (req) => {
      const { result: _, ...delivery } = await hookline.sendTest(req.params.id)
      return { ...presentDelivery(delivery), attempt_log: delivery.attemptLog.map(presentAttempt) }
    },
  )

  app.post<{ Params: Static<typeof IdParams>; Body: Static<typeof RecoverBody> }>(
    `${BASE}/subscriptions/:id/recover`,
    {
      schema: {
        params: IdParams,
        body: RecoverBody,
        doc: {
          summary: 'Re-queue failed, dead and cancelled deliveries since a time',
          tag,
          status: 202,
          response: Type.Object({ recovered: Type.Integer() }),
        },
      },
    },
    async (req, reply) => {
      const since = Date.parse(req.body.since)
      if (Number.isNaN(since))
        throw new ValidationError(
          'invalid_request',
          `since '${req.body.since}' is not a time: use ISO 8601, e.g. 2026-11-29T10:00:00Z`,
          {
            field: 'since',
          },
        )
      return reply.status(202).send({ recovered: await hookline.recover(req.params.id, since) })
    },
  )
}
