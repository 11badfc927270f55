// A stand-in for Authing that records every request exactly as it arrived on the wire (method, path,
// raw headers in order, body bytes) and answers with a fixed JSON envelope.
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface RecordedRequest {
  method: string
  url: string
  /** Header names and values in wire order, names in the case they were sent. */
  rawHeaders: string[]
  /** Node's view: names lowercased. */
  headers: IncomingHttpHeaders
  body: string
}

export interface Recorder {
  url: string
  requests: RecordedRequest[]
  close: () => Promise<void>
}

export const OK_ENVELOPE = { statusCode: 200, message: 'ok', requestId: 'r-1', data: { success: true } }

export async function startRecorder (answer: unknown = OK_ENVELOPE): Promise<Recorder> {
  const requests: RecordedRequest[] = []
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      requests.push({
        method: request.method ?? '',
        url: request.url ?? '',
        rawHeaders: [...request.rawHeaders],
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8')
      })
      response.writeHead(200, { 'content-type': 'application/json; charset=utf-8' })
      response.end(JSON.stringify(answer))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
