import type { Static } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { Hookline } from '../../hookline.ts'
import { presentAttempt, presentDelivery } from '../presenters.ts'
import { DeliveryQuery, IdParams } from '../schemas.ts'
import { parseLimit } from './limit.ts'

/** The delivery log: list, read with attempts, retry. */
export function deliveryRoutes(app: FastifyInstance, hookline: Hookline): void {
  app.get<{ Querystring: Static<typeof DeliveryQuery> }>(
    '/api/v1/deliveries',
    { schema: { querystring: DeliveryQuery } },
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
    { schema: { params: IdParams } },
    async (req) => {
      const d = await hookline.getDelivery(req.params.id)
      return { ...presentDelivery(d), attempt_log: d.attemptLog.map(presentAttempt) }
    },
  )

  app.post<{ Params: Static<typeof IdParams> }>(
    '/api/v1/deliveries/:id/retry',
    { schema: { params: IdParams } },
    async (req, reply) =>
      reply.status(202).send(presentDelivery(await hookline.retryDelivery(req.params.id))),
  )
}
