// The upstream stub: the cheapest possible "Authing" that answers delete-user-sync-relations at once.
// It reads and discards the body, checks nothing (no signature), and keeps connections alive.
// Started as a child process by bench/run.ts; it reports its port over IPC.
import { createServer } from 'node:http'
import { DELETE_PATH, stubAnswer } from './common.ts'

let counter = 0
const prefix = `${process.pid.toString(16)}-`
const server = createServer((request, response) => {
  // Drain the body before answering, as a real server would read it.
  request.on('data', () => {})
  request.on('end', () => {
    if (request.method !== 'POST' || request.url !== DELETE_PATH) {
      response.writeHead(404, { 'content-type': 'application/json; charset=utf-8' })
      response.end('{"statusCode":404,"message":"not found"}')
      return
    }
    counter += 1
    const body = stubAnswer(prefix + counter.toString(16))
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) })
    response.end(body)
  })
})
server.keepAliveTimeout = 60_000
server.headersTimeout = 65_000

server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  process.send?.({ ready: port })
})
process.on('disconnect', () => { process.exit(0) })
process.on('SIGTERM', () => { process.exit(0) })
