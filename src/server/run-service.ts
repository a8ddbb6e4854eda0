import type { FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { buildApi } from '../api/build-api.ts'
import type { LoadedProject } from '../config/load-project.ts'
import { createHookline, type Hookline } from '../hookline.ts'
import { openStore } from '../storage/open-store.ts'
import { bootstrapApiKey, describeDatabase, type Settings, storeOptions } from './settings.ts'

export interface RunningService {
  readonly hookline: Hookline
  readonly api: FastifyInstance | null
  readonly apiKey: string | null
  readonly apiKeyGenerated: boolean
  /** The API's base URL, when it serves one. */
  readonly url: string | null
  stop(): Promise<void>
}

/** Opens the database, checks the project, and runs capture, delivery and (unless a worker) the API. */
export async function runService(options: {
  settings: Settings
  project: LoadedProject
  withApi: boolean
  logger: Logger
}): Promise<RunningService> {
  const { settings, project, logger } = options
  const store = await openStore(settings.database, { ...storeOptions(settings), logger })
  let hookline: Hookline
  try {
    const initSql = project.initSql(store.capabilities.dialect)
    hookline = await createHookline({
      database: store,
      events: project.events,
      tracking: project.tracking,
      bindings: project.config.bindings ?? [],
      ...(initSql ? { initSql } : {}),
      delivery: { ...project.config.delivery, allowPrivateTargets: settings.allowPrivateTargets },
      ...(project.config.capture ? { capture: project.config.capture } : {}),
      logger,
    })
  } catch (error) {
    await store.close()
    throw error
  }

  let api: FastifyInstance | null = null
  let url: string | null = null
  let key: { key: string; generated: boolean } | null = null
  try {
    if (options.withApi) {
      key = await bootstrapApiKey(store, settings.apiKeys[0])
      api = await buildApi(hookline, {
        apiKeys: [key.key, ...settings.apiKeys.slice(1)],
        ...(project.config.server?.bodyLimit ? { bodyLimit: project.config.server.bodyLimit } : {}),
      })
      await api.listen({ port: settings.port, host: settings.host })
      const address = api.server.address()
      const port = typeof address === 'object' && address ? address.port : settings.port
      // Listening on every interface: show the loopback address, which is copy-pasteable here.
      const host =
        settings.host === '0.0.0.0' || settings.host === '::' ? '127.0.0.1' : settings.host
      url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
    }
    await hookline.start()
  } catch (error) {
    await api?.close()
    await hookline.stop()
    throw error
  }
  logger.info({ database: describeDatabase(settings), api: url }, 'service:started')

  let stopping: Promise<void> | null = null
  return {
    hookline,
    api,
    apiKey: key?.key ?? null,
    apiKeyGenerated: key?.generated ?? false,
    url,
    stop() {
      stopping ??= (async () => {
        await api?.close()
        await hookline.stop()
      })()
      return stopping
    },
  }
}
