// The audit trail's hash chain. Each record is one JSON line that starts with its sequence number and
// the SHA-256 of the line before it, so editing, removing or reordering any record breaks the chain at
// that point. The same functions write the chain and verify it.
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { open } from 'node:fs/promises'

/** `prev` of the very first record. */
export const GENESIS_HASH = '0'.repeat(64)

export function hashLine (line: string | Buffer): string {
  return createHash('sha256').update(line).digest('hex')
}

/** The line for a record: `seq` and `prev` first, so a reader sees the chain before the content. */
export function chainLine (seq: number, prev: string, record: Readonly<Record<string, unknown>>): string {
  return JSON.stringify({ seq, prev, ...record })
}

export interface ChainHead {
  seq: number
  prev: string
  /** Where the head came from: file path and line, for messages. */
  at?: string
}

/** Reads `seq` and `prev` from a line; undefined when the line is not a chained record. */
export function parseChainLine (line: string): { seq: number, prev: string, record: Record<string, unknown> } | undefined {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    return undefined
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const record = value as Record<string, unknown>
  if (!Number.isSafeInteger(record.seq) || (record.seq as number) < 1) return undefined
  if (typeof record.prev !== 'string' || !/^[0-9a-f]{64}$/.test(record.prev)) return undefined
  return { seq: record.seq as number, prev: record.prev, record }
}

/** Splits a file's tail into complete lines and a torn remainder (bytes after the last newline). */
export async function readTail (path: string, maxBytes = 1024 * 1024): Promise<{ size: number, lastLine: string | undefined, tornBytes: Buffer }> {
  const handle = await open(path, 'r')
  try {
    const { size } = await handle.stat()
    const length = Math.min(size, maxBytes)
    const buffer = Buffer.alloc(length)
    await handle.read(buffer, 0, length, size - length)
    const lastNewline = buffer.lastIndexOf(0x0a)
    const tornBytes = buffer.subarray(lastNewline + 1)
    if (lastNewline === -1) {
      if (length < size) throw new Error(`${path}: no line break in the last ${maxBytes} bytes`)
      return { size, lastLine: undefined, tornBytes }
    }
    const previousNewline = buffer.lastIndexOf(0x0a, lastNewline - 1)
    if (previousNewline === -1 && length < size) throw new Error(`${path}: the last record is longer than ${maxBytes} bytes`)
    return { size, lastLine: buffer.subarray(previousNewline + 1, lastNewline).toString('utf8'), tornBytes }
  } finally {
    await handle.close()
  }
}

export async function readFirstLine (path: string): Promise<string | undefined> {
  const handle = await open(path, 'r')
  try {
    const buffer = Buffer.alloc(64 * 1024)
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0)
    const newline = buffer.subarray(0, bytesRead).indexOf(0x0a)
    return newline === -1 ? undefined : buffer.subarray(0, newline).toString('utf8')
  } finally {
    await handle.close()
  }
}

export interface VerifyReport {
  ok: boolean
  files: string[]
  records: number
  firstSeq?: number
  lastSeq?: number
  lastHash?: string
  /** False when the first file does not start at the genesis record (older files were left out). */
  fromGenesis: boolean
  /** An incomplete last line at the very end, as a crash leaves it: reported, not tampering. */
  tornTail?: { file: string, line: number, bytes: number }
  /** The first place where the chain does not hold. */
  break?: { file: string, line: number, seq?: number, reason: string }
}

/** Lines of a file as raw strings, with whether the final one ended in a newline. */
async function * fileLines (path: string): AsyncGenerator<{ line: string, terminated: boolean }> {
  let pending = ''
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 1024 * 1024 })) {
    pending += chunk as string
    let newline = pending.indexOf('\n')
    let start = 0
    while (newline !== -1) {
      yield { line: pending.slice(start, newline), terminated: true }
      start = newline + 1
      newline = pending.indexOf('\n', start)
    }
    pending = pending.slice(start)
  }
  if (pending !== '') yield { line: pending, terminated: false }
}

/**
 * Walks the chain over `paths` (in any order: files are ordered by their first record's `seq`) and
 * reports the first break. The chain continues from each file into the next.
 */
export async function verifyChain (paths: readonly string[]): Promise<VerifyReport> {
  const ordered: Array<{ path: string, firstSeq: number }> = []
  const report: VerifyReport = { ok: true, files: [], records: 0, fromGenesis: true }
  for (const path of paths) {
    const first = await readFirstLine(path)
    const parsed = first === undefined ? undefined : parseChainLine(first)
    ordered.push({ path, firstSeq: parsed?.seq ?? Number.MAX_SAFE_INTEGER })
  }
  ordered.sort((a, b) => a.firstSeq - b.firstSeq)
  report.files = ordered.map((file) => file.path)

  let expectedSeq: number | undefined
  let previousHash: string | undefined
  for (const [fileIndex, { path }] of ordered.entries()) {
    let lineNumber = 0
    for await (const { line, terminated } of fileLines(path)) {
      lineNumber += 1
      const isLastFile = fileIndex === ordered.length - 1
      if (!terminated) {
        if (isLastFile) {
          report.tornTail = { file: path, line: lineNumber, bytes: Buffer.byteLength(line) }
          return report
        }
        report.ok = false
        report.break = { file: path, line: lineNumber, reason: 'an incomplete line in the middle of the trail' }
        return report
      }
      const parsed = parseChainLine(line)
      if (parsed === undefined) {
        report.ok = false
        report.break = { file: path, line: lineNumber, reason: 'not a chained audit record' }
        return report
      }
      if (expectedSeq === undefined) {
        report.firstSeq = parsed.seq
        report.fromGenesis = parsed.seq === 1
        if (parsed.seq === 1 && parsed.prev !== GENESIS_HASH) {
          report.ok = false
          report.break = { file: path, line: lineNumber, seq: parsed.seq, reason: 'the first record does not start from the genesis hash' }
          return report
        }
      } else if (parsed.seq !== expectedSeq) {
        report.ok = false
        report.break = { file: path, line: lineNumber, seq: parsed.seq, reason: `expected seq ${expectedSeq}, found ${parsed.seq} (records missing or reordered)` }
        return report
      } else if (parsed.prev !== previousHash) {
        report.ok = false
        report.break = { file: path, line: lineNumber, seq: parsed.seq, reason: 'prev does not match the hash of the record before (that record was altered)' }
        return report
      }
      previousHash = hashLine(line)
      expectedSeq = parsed.seq + 1
      report.records += 1
      report.lastSeq = parsed.seq
      report.lastHash = previousHash
    }
  }
  return report
}
