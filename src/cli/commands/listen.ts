import { createServer } from 'node:http'
import { signatureHeader } from '../../signing/standard-webhooks.ts'

/**
 * `hookline listen`: a local receiver that prints each delivery and, given the
 * subscription's secret, checks its Standard Webhooks signature.
 */
export async function listen(options: {
  port: string
  host: string
  secret?: string
  status: string
}): Promise<void> {
  const status = Number(options.status)
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const id = String(req.headers['webhook-id'] ?? '')
      const ts = Number(req.headers['webhook-timestamp'])
      let verdict = 'signature not checked (pass --secret whsec_… to check it)'
      if (options.secret) {
        const expected = signatureHeader([options.secret], id, ts, body).split(' ')
        const given = String(req.headers['webhook-signature'] ?? '').split(' ')
        verdict = given.some((g) => expected.includes(g)) ? 'signature valid' : 'SIGNATURE INVALID'
      }
      console.log(
        `${new Date().toISOString()} ${req.method} ${req.url} webhook-id=${id} (${verdict})`,
      )
      try {
        console.log(JSON.stringify(JSON.parse(body), null, 2))
      } catch {
        console.log(body)
      }
      res.writeHead(status, { 'content-type': 'application/json' }).end('{"ok":true}')
    })
  })
  await new Promise<void>((resolve) => server.listen(Number(options.port), options.host, resolve))
  console.log(
    `Listening on http://${options.host}:${options.port}/ — answering ${status}. Ctrl-C to stop.`,
  )
}
