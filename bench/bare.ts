// (b) The bare forwarder: the reference for what Node can do on this route. Fastify plus undici's
// `request` on a keep-alive pool, the same AK/SK signing as the service, and nothing else: no
// validation, no caller check, no rate limit, no audit, no metrics, no logging. It answers with the
// upstream's status and body as they came.
// Environment: UPSTREAM (the stub's origin), BARE_CONNECTIONS (pool size, default 64).
import Fastify from 'fastify'
import { Pool } from 'undici'
import { newNonce, signedHeaders } from '../src/authing/signature.ts'
import { BENCH_ACCESS_KEY_ID, BENCH_ACCESS_KEY_SECRET, DELETE_PATH } from './common.ts'

const upstream = process.env.UPSTREAM ?? 'http://127.0.0.1:3900'
const pool = new Pool(upstream, { connections: Number(process.env.BARE_CONNECTIONS ?? 64), pipelining: 1, keepAliveTimeout: 4000 })

const app = Fastify({ logger: false })
app.delete<{ Params: { userId: string, provider: string }, Querystring: { userIdType?: string } }>('/users/:userId/sync-relations/:provider', async (request, reply) => {
  const body = { provider: request.params.provider, userId: request.params.userId, userIdType: request.query.userIdType ?? 'user_id' }
  const headers = signedHeaders({
    accessKeyId: BENCH_ACCESS_KEY_ID,
    accessKeySecret: BENCH_ACCESS_KEY_SECRET,
    method: 'POST',
    path: DELETE_PATH,
    body,
    lang: 'zh-CN',
    date: new Date(),
    nonce: newNonce()
  })
  headers.accept = 'application/json'
  headers['content-type'] = 'application/json'
  const answer = await pool.request({ path: DELETE_PATH, method: 'POST', headers, body: JSON.stringify(body) })
  const text = await answer.body.text()
  return reply.code(answer.statusCode).type('application/json; charset=utf-8').send(text)
})

const address = await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) })
process.send?.({ ready: Number(new URL(address).port) })
const stop = (): void => { void app.close().then(() => pool.close()).then(() => process.exit(0)) }
process.on('disconnect', stop)
process.on('SIGTERM', stop)
