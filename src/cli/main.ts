import { Command, Option } from 'commander'
import { HooklineError } from '../errors.ts'
import type { CliFlags } from '../server/settings.ts'
import { VERSION } from '../version.ts'
import {
  changes,
  deliveries,
  listEvents,
  migrate,
  type SubscribeFlags,
  subscriptions,
  trigger,
} from './commands/admin.ts'
import { init } from './commands/init.ts'
import { listen } from './commands/listen.ts'
import { serve } from './commands/serve.ts'

const program = new Command('hookline')
  .description('Webhook events for database-backed applications')
  .version(VERSION)
  .showHelpAfterError()

const withProject = (cmd: Command) =>
  cmd
    .option('-c, --config <file>', 'project config file (default ./hookline.config.ts)')
    .addOption(
      new Option('-d, --database <url>', 'database URL: sqlite:path or postgres://…').env(
        'HOOKLINE_DATABASE_URL',
      ),
    )
    .option(
      '--schema <name>',
      "PostgreSQL: the schema of Hookline's tables (env HOOKLINE_DATABASE_SCHEMA, default hookline)",
    )
    .option(
      '--pool-size <n>',
      'PostgreSQL: connections in the pool (env HOOKLINE_POOL_SIZE, default 10)',
    )
    .option(
      '--allow-private-targets',
      'deliver to loopback and private addresses too (env HOOKLINE_ALLOW_PRIVATE_TARGETS=true; on in dev)',
    )

const withServer = (cmd: Command) =>
  withProject(cmd)
    .addOption(new Option('-p, --port <port>', 'API port (default 8080)'))
    .addOption(new Option('--host <host>', 'API address to listen on'))

withServer(program.command('start').description('run the API, capture and delivery')).action(
  (o: CliFlags) => serve('start', o),
)
withProject(program.command('worker').description('run capture and delivery only (no API)')).action(
  (o: CliFlags) => serve('worker', o),
)
withServer(
  program
    .command('dev')
    .description('run the demo CRM on SQLite (or --config a project) for local development'),
).action((o: CliFlags) => serve('dev', o))
withProject(program.command('migrate').description("create or upgrade Hookline's tables")).action(
  (o: CliFlags) => migrate(o),
)
withProject(program.command('events').description('list the project’s events')).action(
  (o: CliFlags) => listEvents(o),
)
withProject(
  program.command('trigger <event> [rowId]').description('fire an event for a row (or its sample)'),
).action((event: string, rowId: string | undefined, o: CliFlags) => trigger(o, event, rowId))

const subs = program.command('subscriptions').description('manage subscriptions')
withProject(subs.command('list').option('--event <event>').option('--url <url>')).action((o) =>
  subscriptions.list(o, o),
)
withProject(
  subs
    .command('add <event> <url>')
    .option('--ordering <mode>', 'concurrent (default) or strict: one at a time, in event order')
    .option('--max-concurrency <n>', 'attempts in flight to it at once (default: the server’s)'),
).action((event: string, url: string, o: CliFlags & SubscribeFlags) =>
  subscriptions.add(o, event, url),
)
withProject(subs.command('test <id>').description("deliver the event's sample to it now")).action(
  (id: string, o: CliFlags) => subscriptions.test(o, id),
)
withProject(
  subs
    .command('recover <id>')
    .description('re-queue its failed and dead deliveries')
    .requiredOption('--since <time>'),
).action((id: string, o: CliFlags & { since: string }) => subscriptions.recover(o, id, o.since))
withProject(subs.command('remove <id>')).action((id: string, o: CliFlags) =>
  subscriptions.remove(o, id),
)

const chs = program
  .command('changes')
  .description('changes set aside by a failing handler, and their replay')
withProject(chs.command('failed').option('--limit <n>', 'at most', '100')).action((o) =>
  changes.failed(o, o.limit),
)
withProject(
  chs.command('retry [ids...]').description('process them again (all when no id is given)'),
).action((ids: string[], o: CliFlags) => changes.retry(o, ids))

const dels = program.command('deliveries').description('inspect and retry deliveries')
withProject(
  dels
    .command('list')
    .option('--status <status>')
    .option('--event <event>')
    .option('--subscription <id>')
    .option('--limit <n>', 'at most', '50'),
).action((o) => deliveries.list(o, o))
withProject(dels.command('show <id>')).action((id: string, o: CliFlags) => deliveries.show(o, id))
withProject(dels.command('retry <id>')).action((id: string, o: CliFlags) => deliveries.retry(o, id))

program
  .command('init')
  .description(
    'scaffold a project: hookline.config.ts, and with --table an event and a tracking handler',
  )
  .option('--dir <dir>', 'where to write', '.')
  .option('--table <table>', 'a table to fire an event on its inserts')
  .option('--database <url>', 'database URL', 'sqlite:./data/app.db')
  .action((o: { dir: string; table?: string; database: string }) => init(o))

program
  .command('listen')
  .description('a local receiver that prints (and with --secret verifies) deliveries')
  .option('--port <port>', 'port', '9000')
  .option('--host <host>', 'address', '127.0.0.1')
  .option('--secret <whsec>', "the subscription's secret, to check signatures")
  .option('--status <code>', 'status to answer with', '200')
  .action((o) => listen(o))

try {
  await program.parseAsync()
} catch (error) {
  if (error instanceof HooklineError) {
    console.error(`hookline: ${error.message}`)
    process.exit(2)
  }
  throw error
}
