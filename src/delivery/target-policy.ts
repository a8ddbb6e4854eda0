import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { BlockList, isIP, type LookupFunction } from 'node:net'
import { ValidationError } from '../errors.ts'

/** Where deliveries may go. */
export interface TargetPolicyConfig {
  /** Allow loopback, private, link-local and other non-public addresses. Default false (true in `hookline dev`). */
  readonly allowPrivateTargets?: boolean
  /** Exceptions: CIDR ranges (`10.1.0.0/16`, `fd00::/8`) or host names (`hooks.internal`). */
  readonly allowedTargets?: readonly string[]
  /** Refuse plain http targets. Default false. */
  readonly httpsOnly?: boolean
}

// Every range that is not the public internet: loopback, private, CGNAT, link-local (and the
// cloud metadata address in it), multicast, reserved, documentation, benchmarking.
const BLOCKED_V4 = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.88.99.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4',
]
const BLOCKED_V6 = [
  '::/128',
  '::1/128',
  '64:ff9b::/96',
  '64:ff9b:1::/48',
  '100::/64',
  '2001::/23',
  '2001:db8::/32',
  '2002::/16',
  'fc00::/7',
  'fe80::/10',
  'fec0::/10',
  'ff00::/8',
]

function blockList(cidrs: readonly string[]): BlockList {
  const list = new BlockList()
  for (const cidr of cidrs) {
    const [net, bits] = cidr.split('/')
    const type = isIP(net!) === 6 ? 'ipv6' : 'ipv4'
    list.addSubnet(net!, Number(bits ?? (type === 'ipv6' ? 128 : 32)), type)
  }
  return list
}

const blocked = blockList([...BLOCKED_V4, ...BLOCKED_V6])

/** `::ffff:a.b.c.d` (in any spelling) → `a.b.c.d`, so mapped addresses meet the IPv4 rules. */
function unmapIPv4(address: string): string {
  const lower = address.toLowerCase()
  const dotted = /^(?:0*:)*:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower)
  if (dotted) return dotted[1]!
  const hex = /^(?:0*:)*:?ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower)
  if (hex) {
    const hi = Number.parseInt(hex[1]!, 16)
    const lo = Number.parseInt(hex[2]!, 16)
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`
  }
  return address
}

/** The rules on where deliveries may go, checked at subscribe time and again at connect time. */
export class TargetPolicy {
  readonly #allowPrivate: boolean
  readonly #httpsOnly: boolean
  readonly #allowedHosts: Set<string>
  readonly #allowedRanges: BlockList

  constructor(config: TargetPolicyConfig = {}) {
    this.#allowPrivate = config.allowPrivateTargets ?? false
    this.#httpsOnly = config.httpsOnly ?? false
    const entries = config.allowedTargets ?? []
    this.#allowedHosts = new Set(
      entries.filter((e) => !e.includes('/') && isIP(e) === 0).map((e) => e.toLowerCase()),
    )
    this.#allowedRanges = blockList(entries.filter((e) => e.includes('/') || isIP(e) !== 0))
  }

  /** Whether a resolved address may be connected to. */
  allowsAddress(address: string): boolean {
    if (this.#allowPrivate) return true
    const ip = unmapIPv4(address)
    const type = isIP(ip) === 6 ? 'ipv6' : 'ipv4'
    if (this.#allowedRanges.check(ip, type)) return true
    return !blocked.check(ip, type)
  }

  #hostAllowed(hostname: string): boolean {
    return this.#allowPrivate || this.#allowedHosts.has(hostname.toLowerCase())
  }

  /** Checks a target URL, resolving its host name: for subscribe and update. */
  async check(targetUrl: string): Promise<void> {
    const url = new URL(targetUrl)
    if (this.#httpsOnly && url.protocol !== 'https:')
      throw new ValidationError(
        'invalid_target_url',
        `target_url '${targetUrl}' is plain http; this Hookline only delivers to https targets`,
      )
    const host = url.hostname.replace(/^\[|\]$/g, '')
    if (this.#hostAllowed(host)) return
    const addresses = isIP(host) ? [host] : await resolveAll(host, targetUrl)
    const refused = addresses.find((a) => !this.allowsAddress(a))
    if (refused) throw refusal(targetUrl, refused)
  }

  /**
   * A `lookup` for the HTTP client's sockets: resolves the name once and refuses
   * non-public addresses, so the address checked is the address connected to (no DNS
   * rebinding between the check and the connection).
   */
  readonly lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0)
      const list = addresses as unknown as LookupAddress[]
      const allowed = this.#hostAllowed(hostname)
        ? list
        : list.filter((a) => this.allowsAddress(a.address))
      if (allowed.length === 0) {
        const err = Object.assign(refusal(hostname, list[0]?.address ?? 'none'), {
          code: 'ETARGETREFUSED',
        })
        return callback(err, '', 0)
      }
      if ((options as { all?: boolean }).all) return (callback as any)(null, allowed)
      return callback(null, allowed[0]!.address, allowed[0]!.family)
    })
  }

  /** For targets given as an IP literal, which sockets connect to without a lookup. */
  checkLiteral(target: URL): string | null {
    const host = target.hostname.replace(/^\[|\]$/g, '')
    if (this.#hostAllowed(host) || isIP(host) === 0 || this.allowsAddress(host)) return null
    return refusal(target.href, host).message
  }
}

function refusal(target: string, address: string): ValidationError {
  return new ValidationError(
    'target_not_allowed',
    `target '${target}' resolves to ${address}, a private, loopback or reserved address: deliveries there are refused (allow it with delivery.allowedTargets, or use hookline dev for local receivers)`,
  )
}

function resolveAll(host: string, targetUrl: string): Promise<string[]> {
  return new Promise((resolve, reject) =>
    dnsLookup(host, { all: true }, (error, addresses) => {
      if (error)
        reject(
          new ValidationError(
            'invalid_target_url',
            `target_url '${targetUrl}': host '${host}' could not be resolved (${error.code})`,
          ),
        )
      else resolve(addresses.map((a) => a.address))
    }),
  )
}
