// Pre-fills an audit trail file with real, chained records (valid for `npm run audit -- verify`), so the
// service can be measured with a large trail on disk: attempt/outcome pairs like the ones it writes.
import { closeSync, openSync, writeSync } from 'node:fs'
import { chainLine, GENESIS_HASH, hashLine } from '../src/audit/chain.ts'

export function prefillTrail (path: string, targetBytes: number): { bytes: number, records: number } {
  const fd = openSync(path, 'w', 0o640)
  let seq = 0
  let prev = GENESIS_HASH
  let bytes = 0
  // All records carry the time of the pre-fill: the trail's first record decides the day of the file,
  // and a file from another day would be rotated away at the first append (AUDIT_ROTATE_DAILY).
  const time = new Date().toISOString()
  const chunk: string[] = []
  let chunkBytes = 0
  try {
    while (bytes < targetBytes) {
      seq += 1
      const n = String(seq % 100_000).padStart(5, '0')
      const subject = { requestId: `00000000-0000-4000-8000-0000000${n}`, caller: 'bench', callerAddress: '127.0.0.1', method: 'DELETE', route: '/users/:userId/sync-relations/:provider', provider: 'lark', userIdType: 'user_id', userId: `6229ffaa0b1c2d3e4f5${n}` }
      const record = seq % 2 === 1
        ? { v: 1, type: 'attempt', time, ...subject }
        : { v: 1, type: 'outcome', time, ...subject, outcome: 'success', status: 200, authing: { statusCode: 200, requestId: `stub-${n}` }, success: true, attempts: 1, latencyMs: 1.2 }
      const line = chainLine(seq, prev, record)
      prev = hashLine(line)
      chunk.push(line)
      chunkBytes += Buffer.byteLength(line) + 1
      if (chunkBytes >= 8 * 1024 * 1024) {
        writeSync(fd, `${chunk.join('\n')}\n`)
        bytes += chunkBytes
        chunk.length = 0
        chunkBytes = 0
      }
    }
    if (chunk.length > 0) {
      writeSync(fd, `${chunk.join('\n')}\n`)
      bytes += chunkBytes
    }
  } finally {
    closeSync(fd)
  }
  return { bytes, records: seq }
}
