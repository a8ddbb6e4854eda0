import { afterEach, describe, expect, it } from 'vitest'
import { TargetPolicy } from '../../src/delivery/target-policy.ts'
import type { Hookline } from '../../src/hookline.ts'
import { generateSecret } from '../../src/signing/standard-webhooks.ts'
import { demoHookline } from '../helpers/demo.ts'
import { type Receiver, startReceiver } from '../helpers/receiver.ts'
import { tempDbPath, tempDir } from '../helpers/temp.ts'

describe('TargetPolicy', () => {
  const strict = new TargetPolicy()
  it.each([
    '127.0.0.1',
    '127.255.0.9',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '100.64.0.1',
    '169.254.169.254',
    '0.0.0.0',
    '224.0.0.1',
    '240.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '0:0:0:0:0:ffff:a00:1',
    'fe80::1',
    'fc00::1',
    'fd00:ec2::254',
    'ff02::1',
    '64:ff9b::7f00:1',
    '2002:7f00:1::1',
  ])('refuses %s', (address) => {
    expect(strict.allowsAddress(address)).toBe(false)
  })

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])(
    'allows %s',
    (address) => {
      expect(strict.allowsAddress(address)).toBe(true)
    },
  )

  it.each([
    'http://127.0.0.1/',
    'http://2130706433/',
    'http://0x7f.0.0.1/',
    'http://0177.0.0.1/',
    'http://[::ffff:127.0.0.1]/',
    'http://0/',
    'http://localhost:8080/',
    'http://169.254.169.254/latest/meta-data',
  ])('refuses the target %s at subscribe time', async (url) => {
    await expect(strict.check(new URL(url).href)).rejects.toMatchObject({
      code: 'target_not_allowed',
    })
  })

  it('honours an allow-list of ranges and host names, and an https-only setting', async () => {
    const policy = new TargetPolicy({
      allowedTargets: ['10.0.0.0/8', 'localhost'],
      httpsOnly: true,
    })
    expect(policy.allowsAddress('10.9.9.9')).toBe(true)
    expect(policy.allowsAddress('192.168.0.1')).toBe(false)
    await expect(policy.check('https://localhost/')).resolves.toBeUndefined()
    await expect(policy.check('http://localhost/')).rejects.toMatchObject({
      code: 'invalid_target_url',
    })
  })
})

describe('connect-time protection', () => {
  const dir = tempDir()
  let hookline: Hookline | undefined
  let receiver: Receiver | undefined
  afterEach(async () => {
    await hookline?.stop()
    await receiver?.close()
  })

  // A subscription made while its host name pointed elsewhere (DNS rebinding) or written
  // straight into the database: the check on the resolved address still stops it.
  it.each(['localhost', '127.0.0.1'])(
    'never connects to a loopback target named %s',
    async (host) => {
      hookline = await demoHookline(`sqlite:${tempDbPath(dir)}`, {
        delivery: { allowPrivateTargets: false },
      })
      receiver = await startReceiver()
      const url = receiver.url.replace('127.0.0.1', host)
      await hookline.store.createSubscription({
        id: 'sub_rebound',
        event: 'NewOpportunity',
        targetUrl: url,
        secret: generateSecret(),
        headers: {},
        now: Date.now(),
      })
      await hookline.trigger('NewOpportunity', 1)
      await hookline.drain()
      expect(receiver.received).toHaveLength(0)
      const [d] = await hookline.listDeliveries({})
      expect(d).toMatchObject({ status: 'dead', attempts: 1 })
      expect(d!.lastError).toMatch(/private, loopback or reserved/)
    },
  )

  it('delivers to an allowed range', async () => {
    hookline = await demoHookline(`sqlite:${tempDbPath(dir)}`, {
      delivery: { allowPrivateTargets: false, allowedTargets: ['127.0.0.0/8'] },
    })
    receiver = await startReceiver()
    await hookline.store.createSubscription({
      id: 'sub_allowed',
      event: 'NewOpportunity',
      targetUrl: receiver.url.replace('127.0.0.1', 'localhost'),
      secret: generateSecret(),
      headers: {},
      now: Date.now(),
    })
    await hookline.trigger('NewOpportunity', 1)
    await hookline.drain()
    expect(receiver.received).toHaveLength(1)
  })
})
