// `npm run sandbox`: the Authing emulator on its own, for pointing a proxy (or anything else) at it as if
// it were Authing. Prints its address and credentials; with --log-requests, one JSON line per request.
import { parseArgs } from 'node:util'
import { startSandbox } from '../sandbox/emulator.ts'

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.SANDBOX_PORT ?? '3900' },
    host: { type: 'string', default: process.env.SANDBOX_HOST ?? '127.0.0.1' },
    'access-key-id': { type: 'string', default: process.env.SANDBOX_ACCESS_KEY_ID ?? '65a0c0ffee0000000000a001' },
    'access-key-secret': { type: 'string', default: process.env.SANDBOX_ACCESS_KEY_SECRET ?? 'sandbox-access-key-secret' },
    'missing-relation': { type: 'string', default: process.env.SANDBOX_MISSING_RELATION ?? 'not-found' },
    'log-requests': { type: 'boolean', default: false }
  }
})

const missingRelation = values['missing-relation'] === 'success' ? 'success' : 'not-found'
const sandbox = await startSandbox({
  accessKeyId: values['access-key-id'],
  accessKeySecret: values['access-key-secret'],
  missingRelation,
  ...(values['log-requests'] ? { onReceived: (request) => { process.stdout.write(`${JSON.stringify({ url: request.url, body: request.body, answer: request.answer })}\n`) } } : {})
}, Number(values.port), values.host)

process.stderr.write(`Authing sandbox listening on ${sandbox.url}\n  AUTHING_HOST=${sandbox.url}\n  AUTHING_ACCESS_KEY_ID=${sandbox.accessKeyId}\n  AUTHING_ACCESS_KEY_SECRET=${sandbox.accessKeySecret}\n`)
const stop = (): void => { void sandbox.close().then(() => process.exit(0)) }
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
