import { relative } from 'node:path'
import { pino } from 'pino'
import { runService } from '../../server/run-service.ts'
import { type CliFlags, describeDatabase, type Settings } from '../../server/settings.ts'
import { redactUrl } from '../../storage/open-store.ts'
import { DEMO_CONFIG, loadSettings } from '../project.ts'

export type ServeMode = 'start' | 'worker' | 'dev'

/** `hookline start | worker | dev`: runs until SIGINT or SIGTERM, then drains and stops. */
export async function serve(mode: ServeMode, flags: CliFlags): Promise<void> {
  const { project, settings } = await loadSettings(flags, {
    configFile: mode === 'dev' ? DEMO_CONFIG : 'hookline.config.ts',
    host: mode === 'dev' ? '127.0.0.1' : '0.0.0.0',
    allowPrivateTargets: mode === 'dev',
  })
  const logger = pino({
    level: process.env.HOOKLINE_LOG_LEVEL ?? (mode === 'dev' ? 'warn' : 'info'),
  })
  const service = await runService({ settings, project, withApi: mode !== 'worker', logger })

  if (mode === 'dev') {
    service.hookline.on('delivery:attempted', (a) =>
      console.log(
        `  delivery ${a.deliveryId}: ${a.statusCode ?? a.error} in ${a.durationMs} ms → ${a.status}${a.nextAttemptAt ? ` (next try ${new Date(a.nextAttemptAt).toISOString()})` : ''}`,
      ),
    )
    service.hookline.on('change:processed', (c) => {
      if (c.messages > 0)
        console.log(
          `  ${c.changes} change(s) → ${c.messages} event(s) → ${c.deliveries} delivery(ies)`,
        )
    })
  }
  if (service.url)
    printWelcome(
      mode,
      service.url,
      service.apiKey!,
      service.apiKeyGenerated,
      settings,
      project.configFile,
    )
  else console.log(`Hookline worker: capture and delivery on ${describeDatabase(settings)}`)

  const shutdown = async (signal: string) => {
    console.log(`\n${signal}: stopping (finishing deliveries in flight)…`)
    try {
      await service.stop()
    } catch (error) {
      logger.error({ err: error }, 'service:stop-failed')
    } finally {
      process.exit(0)
    }
  }
  process.once('SIGINT', () => void shutdown('SIGINT'))
  process.once('SIGTERM', () => void shutdown('SIGTERM'))
}

function printWelcome(
  mode: ServeMode,
  url: string,
  key: string,
  generated: boolean,
  settings: Settings,
  configFile: string,
) {
  const { database, allowPrivateTargets: allowsLocal } = settings
  const auth = `-H 'Authorization: Bearer ${key}'`
  const file = database.startsWith('sqlite:') ? database.slice('sqlite:'.length) : null
  const lines = [
    `Hookline ${mode === 'dev' ? 'dev (demo CRM)' : 'start'}: API on ${url}, database ${describeDatabase(settings)}`,
    `Project: ${relative(process.cwd(), configFile) || configFile}`,
    `API key: ${key}${generated ? '  (generated and kept in the database; set HOOKLINE_API_KEY to choose your own)' : ''}`,
    '',
    ...(allowsLocal
      ? [
          '1. Start a receiver that prints and verifies deliveries (another terminal):',
          '     npx hookline listen --port 9000',
          '2. Subscribe it to NewOpportunity:',
        ]
      : [
          '1. Receivers must be public: loopback and private targets are refused here',
          '   (hookline dev, or --allow-private-targets, allows them for local testing).',
          '2. Subscribe one to NewOpportunity:',
        ]),
    `     curl -s -X POST ${url}/api/v1/webhooks/subscribe ${auth} -H 'content-type: application/json' -d '{"event": "NewOpportunity", "target_url": "${allowsLocal ? 'http://127.0.0.1:9000/' : 'https://example.com/hooks'}"}'`,
    '3. Make the event fire: insert a deal that is a project, from any program:',
    file
      ? `     sqlite3 -cmd '.timeout 5000' ${file} "INSERT INTO deal (name, amount, is_project) VALUES ('New website', 5000, 1)"`
      : `     psql '${redactUrl(database)}' -c "INSERT INTO deal (name, amount, is_project) VALUES ('New website', 5000, 1)"`,
    ...(file
      ? [
          `   or: node -e "new (require('better-sqlite3'))('${file}').exec(\\"INSERT INTO deal (name, amount, is_project) VALUES ('New website', 5000, 1)\\")"`,
        ]
      : []),
    '',
    `Samples (perform-list):  curl -s ${url}/api/v1/webhooks/perform-list/NewOpportunity ${auth}`,
    `Event catalog:           curl -s ${url}/api/v1/events ${auth}`,
    '',
  ]
  console.log(lines.join('\n'))
}
