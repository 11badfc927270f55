// Kept-alive connections to Authing: a socket the far side closes while idle must never surface as a
// caller-visible error, whether the server announces its keep-alive timeout or not.
import { createServer as createHttpServer } from 'node:http'
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net'
import t from 'tap'
import { AUTH, buildTestApp, ZHANGSAN } from '../helpers/app.ts'

const BODY = JSON.stringify({ statusCode: 200, message: 'ok', requestId: 'r', data: { success: true } })

interface Stub { url: string, connections: () => number, close: () => void }

/** Node's HTTP server: announces `Keep-Alive: timeout=…` and closes idle sockets after it. */
async function announcingUpstream (idleMs: number): Promise<Stub> {
  let connections = 0
  const server = createHttpServer((request, response) => {
    request.resume()
    request.on('end', () => { response.writeHead(200, { 'content-type': 'application/json' }).end(BODY) })
  })
  server.keepAliveTimeout = idleMs
  server.on('connection', () => { connections += 1 })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections, close: () => { server.closeAllConnections(); server.close() } }
}

/** A bare HTTP/1.1 peer, like some gateways: keeps connections open without saying for how long, then drops them. */
async function silentUpstream (idleMs: number): Promise<Stub> {
  let connections = 0
  const sockets = new Set<Socket>()
  const server = createTcpServer((socket) => {
    connections += 1
    sockets.add(socket)
    let buffer = Buffer.alloc(0)
    let idle: NodeJS.Timeout | undefined
    const arm = (): void => { clearTimeout(idle); idle = setTimeout(() => socket.destroy(), idleMs) }
    arm()
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk])
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n')
        if (end === -1) return
        const length = Number(/content-length: *(\d+)/i.exec(buffer.subarray(0, end).toString())?.[1] ?? 0)
        if (buffer.length < end + 4 + length) return
        buffer = buffer.subarray(end + 4 + length)
        socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(BODY)}\r\n\r\n${BODY}`)
        arm()
      }
    })
    socket.on('close', () => { clearTimeout(idle); sockets.delete(socket) })
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections, close: () => { for (const s of sockets) s.destroy(); server.close() } }
}

for (const [kind, start] of [['announced in Keep-Alive', announcingUpstream], ['unannounced', silentUpstream]] as const) {
  t.test(`idle sockets that Authing closes after 150 ms (${kind}) cause no caller-visible error`, async (t) => {
    const stub = await start(150)
    t.teardown(stub.close)
    const { app, audit } = await buildTestApp(t, {
      SANDBOX: 'false',
      AUTHING_HOST: stub.url,
      AUTHING_ACCESS_KEY_ID: 'AK',
      AUTHING_ACCESS_KEY_SECRET: 'SK',
      AUDIT_HMAC_KEY: 'k'.repeat(32),
      CALLERS_FILE: new URL('../fixtures/callers-dev.json', import.meta.url).pathname
    })
    const statuses: number[] = []
    for (const idle of [0, 200, 10, 300, 160, 0, 250, 140, 155]) {
      await new Promise((resolve) => setTimeout(resolve, idle))
      statuses.push((await app.inject({ method: 'DELETE', url: `/users/${ZHANGSAN}/sync-relations/lark`, headers: AUTH })).statusCode)
    }
    t.same(statuses, statuses.map(() => 200), 'every call succeeded')
    t.ok(stub.connections() >= 2, 'connections were closed by the far side and replaced')
    const retried = audit().filter((record) => record.type === 'outcome' && record.attempts !== 1).length
    t.comment(`${retried} call(s) needed a retry on a fresh connection`)
  })
}
