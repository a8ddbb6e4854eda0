import pg from 'pg'
import type { Logger } from 'pino'
import { poolTypes, quoteIdent } from './postgres-sql.ts'

export interface SessionOptions {
  readonly connectionString: string
  /** Advisory lock key (text, hashed) held by the one active change consumer. */
  readonly lockKey: string
  /** Channel Hookline's own transactions notify when deliveries were added. */
  readonly channel: string
  /**
   * Advisory lock key (text, hashed) every session holds shared, the same for every
   * Hookline process on the schema: how many run is how many hold it (`alone`).
   */
  readonly peersKey: string
  /** Notifications with this payload are this process's own: not passed on. */
  readonly ignorePayload?: string
  /** Delay before reconnecting a lost session, in ms. */
  readonly reconnectMs?: number
  /** Told when the connection is lost (a server restart) and when it is back. */
  readonly logger?: Pick<Logger, 'warn' | 'info'>
  /** The server, password hidden, for the log. */
  readonly description?: string
}

/** How long `alone` trusts its last look at the server's sessions. */
const PEERS_TTL_MS = 1000
/** How many sessions hold the shared lock of key $1 (a bigint key is classid, objid, objsubid 1). */
const PEERS_SQL = `WITH k AS (SELECT hashtextextended($1, 0) AS key)
  SELECT count(*)::int AS n FROM pg_locks, k
  WHERE locktype = 'advisory' AND granted AND objsubid = 1
    AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND classid = ((key >> 32) & 4294967295)::oid AND objid = (key & 4294967295)::oid`

/**
 * One dedicated connection (outside the pool) for what lives as long as a session:
 * the change consumer's advisory lock, `LISTEN`, and the shared lock other processes count
 * it by. When the connection dies, PostgreSQL releases the locks, so another process can
 * take over consuming; this one reconnects, listens again, and competes for the lock on
 * its next poll.
 */
export class PostgresSession {
  #client: pg.Client | null = null
  #connecting: Promise<pg.Client> | null = null
  #lockHeld = false
  #closed = false
  /** The connection was lost and is not back yet. */
  #outage = false
  #reconnectTimer: NodeJS.Timeout | null = null
  readonly #listeners = new Set<() => void>()
  #alone = false
  #peersSeenAt = Number.NEGATIVE_INFINITY
  #lookingForPeers = false

  constructor(private readonly o: SessionOptions) {}

  /** True when this session holds the consumer lock (taking it if it is free). */
  async tryLock(): Promise<boolean> {
    if (this.#closed) return false
    const client = await this.#connect()
    if (this.#lockHeld && client === this.#client) return true
    const { rows } = await client.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked',
      [this.o.lockKey],
    )
    this.#lockHeld = client === this.#client && rows[0]?.locked === true
    return this.#lockHeld
  }

  /** Calls `listener` on every notification of the channel, and after a reconnect. */
  onNotify(listener: () => void): () => void {
    this.#listeners.add(listener)
    if (this.#listeners.size === 1) void this.#connect().catch(() => this.#scheduleReconnect())
    return () => {
      this.#listeners.delete(listener)
    }
  }

  /**
   * Whether this session is the only one holding `peersKey` on the database, as
   * last seen; looks again in the background when that was over a second ago. False
   * until it knows, and while disconnected.
   */
  alone(): boolean {
    const client = this.#client
    if (!client) return false
    const now = performance.now()
    if (!this.#lookingForPeers && now - this.#peersSeenAt >= PEERS_TTL_MS) {
      this.#lookingForPeers = true
      this.#peersSeenAt = now
      client
        .query<{ n: number }>(PEERS_SQL, [this.o.peersKey])
        .then(
          ({ rows }) => {
            this.#alone = client === this.#client && rows[0]?.n === 1
          },
          () => {
            this.#alone = false
          },
        )
        .finally(() => {
          this.#lookingForPeers = false
        })
    }
    return this.#alone
  }

  async close(): Promise<void> {
    this.#closed = true
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer)
    const client = this.#client ?? (await this.#connecting?.catch(() => null))
    this.#client = null
    this.#lockHeld = false
    await client?.end().catch(() => {})
  }

  #connect(): Promise<pg.Client> {
    if (this.#client) return Promise.resolve(this.#client)
    if (this.#connecting) return this.#connecting
    this.#connecting = (async () => {
      const client = new pg.Client({ connectionString: this.o.connectionString, types: poolTypes })
      client.on('error', (error) => this.#lost(client, error))
      client.on('end', () => this.#lost(client))
      client.on('notification', (n) => {
        if (n.payload !== this.o.ignorePayload) this.#notify()
      })
      try {
        await client.connect()
        await client.query(`LISTEN ${quoteIdent(this.o.channel)}`)
        await client.query('SELECT pg_advisory_lock_shared(hashtextextended($1, 0))', [
          this.o.peersKey,
        ])
      } catch (error) {
        client.removeAllListeners('end')
        await client.end().catch(() => {})
        throw error
      }
      if (this.#closed) {
        await client.end().catch(() => {})
        throw new Error('the PostgreSQL store is closed')
      }
      this.#client = client
      return client
    })().finally(() => {
      this.#connecting = null
    })
    return this.#connecting
  }

  #lost(client: pg.Client, error?: Error): void {
    if (this.#client !== client) return
    this.#client = null
    this.#lockHeld = false
    this.#alone = false
    client.end().catch(() => {})
    if (!this.#closed) {
      this.#outage = true
      this.o.logger?.warn({ database: this.o.description, err: error }, 'database:connection-lost')
    }
    this.#scheduleReconnect()
  }

  #scheduleReconnect(): void {
    if (this.#closed || this.#listeners.size === 0 || this.#reconnectTimer) return
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null
      this.#connect().then(
        // Notifications sent while we were away are gone: let listeners look now.
        () => {
          if (this.#outage)
            this.o.logger?.info({ database: this.o.description }, 'database:reconnected')
          this.#outage = false
          this.#notify()
        },
        () => this.#scheduleReconnect(),
      )
    }, this.o.reconnectMs ?? 1000)
    this.#reconnectTimer.unref()
  }

  #notify(): void {
    for (const listener of this.#listeners) listener()
  }
}
