// The real app on a real socket, and a gateway in front of it that serves it under a path prefix.
import { request as httpRequest, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { AppDependencies } from '../../src/app.ts'
import { buildTestApp, type TestApp } from './app.ts'

interface Teardown { teardown: (fn: () => unknown) => void }

export interface ListeningApp extends TestApp {
  port: number
  /** `http://127.0.0.1:<port>` */
  baseUrl: string
}

/** Builds the app against its sandbox (see buildTestApp) and listens on 127.0.0.1 on a free port. */
export async function listenTestApp (t: Teardown, env: Record<string, string> = {}, deps: AppDependencies = {}): Promise<ListeningApp> {
  const testApp = await buildTestApp(t, env, deps)
  await testApp.app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = testApp.app.server.address() as AddressInfo
  return { ...testApp, port, baseUrl: `http://127.0.0.1:${port}` }
}

export interface Gateway {
  port: number
  /** `http://127.0.0.1:<port>` (the prefix is not included) */
  baseUrl: string
  /** Paths the gateway forwarded, as the service saw them. */
  forwarded: string[]
}

/**
 * A prefix-stripping reverse proxy, like an API gateway that serves the service under `prefix`:
 * `<prefix>/x` is forwarded to `target/x`, headers and body as they come (Location headers untouched, as
 * a gateway does for relative redirects); anything outside the prefix is the gateway's own 404.
 */
export async function startGateway (t: Teardown, prefix: string, target: { port: number }): Promise<Gateway> {
  const forwarded: string[] = []
  const server: Server = createServer((inbound: IncomingMessage, outbound: ServerResponse) => {
    const url = inbound.url ?? '/'
    if (url !== prefix && !url.startsWith(`${prefix}/`) && !url.startsWith(`${prefix}?`)) {
      outbound.writeHead(404, { 'content-type': 'text/plain' }).end('not behind this gateway')
      return
    }
    const path = url.slice(prefix.length)
    const upstreamPath = path === '' || path.startsWith('?') ? `/${path}` : path
    forwarded.push(upstreamPath)
    const upstream = httpRequest({
      host: '127.0.0.1',
      port: target.port,
      method: inbound.method,
      path: upstreamPath,
      headers: { ...inbound.headers, 'x-forwarded-prefix': prefix }
    }, (answer) => {
      outbound.writeHead(answer.statusCode ?? 502, answer.rawHeaders)
      answer.pipe(outbound)
    })
    upstream.on('error', () => {
      if (!outbound.headersSent) outbound.writeHead(502, { 'content-type': 'text/plain' })
      outbound.end('bad gateway')
    })
    inbound.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })
  const { port } = server.address() as AddressInfo
  return { port, baseUrl: `http://127.0.0.1:${port}`, forwarded }
}

/** The URLs of every stylesheet, icon and script an HTML page references, resolved against the page's URL. */
export function assetUrls (html: string, pageUrl: string): string[] {
  const urls: string[] = []
  for (const match of html.matchAll(/<(?:link|script)\b[^>]*?\b(?:href|src)="([^"]+)"/g)) {
    urls.push(new URL(match[1] as string, pageUrl).href)
  }
  return urls
}
