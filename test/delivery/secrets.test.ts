import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import { deliveryFixture } from '../helpers/delivery-setup.ts'

const fx = deliveryFixture()

describe('secrets and custom headers', () => {
  it('signs with both secrets during the rotation grace period, then with the new one only', async () => {
    const { hookline, insertDeal, clock } = await fx.setup({ rotationGraceMs: 60_000 })
    const r = await fx.receiver()
    const { subscription } = await hookline.subscriptions.subscribe({
      event: 'NewOpportunity',
      targetUrl: r.url,
    })
    const rotated = await hookline.subscriptions.rotateSecret(subscription.id)
    expect(rotated.secret).not.toBe(subscription.secret)
    insertDeal('during grace')
    await hookline.drain()
    const first = r.received[0]!
    expect(String(first.headers['webhook-signature']).split(' ')).toHaveLength(2)
    for (const secret of [subscription.secret, rotated.secret])
      expect(() =>
        new Webhook(secret).verify(first.body, first.headers as Record<string, string>),
      ).not.toThrow()

    clock.advance(60_001)
    insertDeal('after grace')
    await hookline.drain()
    const second = r.received[1]!
    expect(String(second.headers['webhook-signature']).split(' ')).toHaveLength(1)
    expect(() =>
      new Webhook(rotated.secret).verify(second.body, second.headers as Record<string, string>),
    ).not.toThrow()
    expect(() =>
      new Webhook(subscription.secret).verify(
        second.body,
        second.headers as Record<string, string>,
      ),
    ).toThrow()
  })

  it('sends a subscription’s custom headers with every delivery', async () => {
    const { hookline, insertDeal } = await fx.setup()
    const r = await fx.receiver()
    await hookline.subscriptions.subscribe({
      event: 'NewOpportunity',
      targetUrl: r.url,
      headers: { Authorization: 'Bearer receiver-token', 'X-Tenant': 'acme' },
    })
    insertDeal('with headers')
    await hookline.drain()
    expect(r.received[0]!.headers).toMatchObject({
      authorization: 'Bearer receiver-token',
      'x-tenant': 'acme',
    })
  })
})
