// Entry point: load the configuration, build the app, listen, and close gracefully on SIGTERM/SIGINT
// (in-flight calls are answered and the audit trail is flushed before the process exits).
import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.ts'
import { ConfigError, loadConfig, type Config } from './config.ts'
import { SANDBOX_CALLER } from './callers/plugin.ts'

let config: Config
try {
  config = loadConfig()
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`sync-relations-proxy cannot start.\n${error.message}\n`)
    process.exit(1)
  }
  throw error
}

const app = await buildApp(config).catch((error: unknown) => {
  process.stderr.write(`sync-relations-proxy cannot start: ${(error as Error).message}\n`)
  process.exit(1)
})

// SIGHUP means "reload the callers file" (see the callers plugin), never "shut down".
process.on('SIGHUP', () => {
  if (config.callers.file === undefined) app.log.info('SIGHUP received: there is no CALLERS_FILE to reload')
})
closeWithGrace({ delay: config.shutdownTimeoutMs, skip: ['SIGHUP'] }, async ({ signal, err }) => {
  if (err !== undefined) app.log.error({ errName: err.name }, 'shutting down after an unexpected error')
  else app.log.info({ signal }, 'shutting down: draining in-flight calls')
  await app.close()
})

try {
  await app.listen({ host: config.host, port: config.port })
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code
  process.stderr.write(`sync-relations-proxy cannot start: cannot listen on ${config.host}:${config.port} (${code === 'EADDRINUSE' ? 'the port is in use' : code ?? 'error'})\n`)
  await app.close()
  process.exit(1)
}

const address = app.server.address()
const port = typeof address === 'object' && address !== null ? address.port : config.port
const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host.includes(':') ? `[${config.host}]` : config.host
const base = `http://${shownHost}:${port}`
const lines = [`sync-relations-proxy listening on ${base}`, `Swagger UI: ${base}/docs`]
if (config.authing === undefined) {
  lines.push('Upstream: the built-in SANDBOX (no Authing credentials configured); nothing reaches Authing.')
  if (config.callers.file === undefined) {
    lines.push(
      `Sandbox caller key: ${SANDBOX_CALLER.key}`,
      `Try: curl -i -X DELETE -H 'Authorization: Bearer ${SANDBOX_CALLER.key}' ${base}/users/6229ffaa0b1c2d3e4f5a6b7c/sync-relations/lark`
    )
  }
} else {
  lines.push(`Upstream: Authing at ${config.authing.host} (${config.authingOptions.authMode} mode)`)
}
app.log.info({ url: base, docs: `${base}/docs`, sandbox: config.authing === undefined }, 'ready')
process.stdout.write(`\n${lines.join('\n')}\n\n`)
