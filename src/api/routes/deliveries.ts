import { type Static, Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { Hookline } from '../../hookline.ts'
import { presentAttempt, presentDelivery } from '../presenters.ts'
import { Delivery, DeliveryQuery, DeliveryWithAttempts, IdParams } from '../schemas.ts'
import { parseLimit } from './limit.ts'
import { noBody } from './no-body.ts'

/** The delivery log: list, read with attempts, retry. */
export function deliveryRoutes(app: FastifyInstance, hookline: Hookline): void {
  const tag = 'deliveries'
  app.get<{ Querystring: Static<typeof DeliveryQuery> }>(
    '/api/v1/deliveries',
    {
      schema: {
        querystring: DeliveryQuery,
        doc: { summary: 'List deliveries', tag, response: Type.Array(Delivery) },
      },
    },
    async (req) => {
      const q = req.query
      const list = await hookline.listDeliveries({
        ...(q.subscription_id ? { subscriptionId: q.subscription_id } : {}),
        ...(q.status ? { status: q.status } : {}),
        ...(q.event ? { event: q.event } : {}),
        limit: parseLimit(q.limit, 100, 1000),
      })
      return list.map(presentDelivery)
    },
  )

  app.get<{ Params: Static<typeof IdParams> }>(
    '/api/v1/deliveries/:id',
    {
      schema: {
        params: IdParams,
        doc: { summary: 'Read a delivery with its attempts', tag, response: DeliveryWithAttempts },
      },
    },
    async (req) => {
      const d = await hookline.getDelivery(req.params.id)
      return { ...presentDelivery(d), attempt_log: d.attemptLog.map(presentAttempt) }
    },
  )

  app.post<{ Params: Static<typeof IdParams> }>(
    '/api/v1/deliveries/:id/retry',
    {
      preValidation: noBody,
      schema: {
        params: IdParams,
        doc: { summary: 'Retry a delivery now', tag, status: 202, response: Delivery },
      },
    },
    async (req, reply) =>
      reply.status(202).send(presentDelivery(await hookline.retryDelivery(req.params.id))),
  )
}
