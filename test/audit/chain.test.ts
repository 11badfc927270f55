// The hash chain and its verifier: an intact trail verifies; editing, deleting or reordering records, or
// leaving out a rotated file, is reported at the first record where the chain no longer holds.
import { join } from 'node:path'
import t from 'tap'
import { chainLine, GENESIS_HASH, hashLine, parseChainLine, verifyChain } from '../../src/audit/chain.ts'
import { tempDir } from '../helpers/app.ts'
import { chainedLines, writeLines } from '../helpers/audit-files.ts'

t.test('a record line starts with seq and prev, and its hash is the next record\'s prev', async (t) => {
  const [first, second] = chainedLines(2)
  t.match(first, /^\{"seq":1,"prev":"0{64}",/)
  t.equal(parseChainLine(second as string)?.prev, hashLine(first as string))
  t.equal(parseChainLine('not json'), undefined)
  t.equal(parseChainLine('{"seq":0,"prev":"' + GENESIS_HASH + '"}'), undefined, 'seq starts at 1')
  t.equal(parseChainLine('{"seq":1,"prev":"abc"}'), undefined, 'prev is a SHA-256')
  t.equal(parseChainLine('[1,2]'), undefined)
})

t.test('an intact chain verifies', async (t) => {
  const path = join(tempDir(), 'audit.log')
  const lines = chainedLines(10)
  writeLines(path, lines)
  const report = await verifyChain([path])
  t.same(report, { ok: true, files: [path], records: 10, firstSeq: 1, lastSeq: 10, lastHash: hashLine(lines[9] as string), fromGenesis: true })
})

t.test('an empty file verifies with no records', async (t) => {
  const path = join(tempDir(), 'audit.log')
  writeLines(path, [])
  t.match(await verifyChain([path]), { ok: true, records: 0, fromGenesis: true })
})

t.test('editing one record\'s content breaks the chain at the next record', async (t) => {
  const path = join(tempDir(), 'audit.log')
  const lines = chainedLines(6)
  lines[2] = (lines[2] as string).replace('"note":"record 3"', '"note":"record 3 (edited)"')
  writeLines(path, lines)
  const report = await verifyChain([path])
  t.equal(report.ok, false)
  t.same(report.break, { file: path, line: 4, seq: 4, reason: 'prev does not match the hash of the record before (that record was altered)' })
  t.equal(report.records, 3, 'the records before the break are counted as verified')
})

t.test('editing the last record changes the head hash that a verifier compares with a copy kept elsewhere', async (t) => {
  // No record follows the last one, so only its hash (report.lastHash) can show the edit.
  const path = join(tempDir(), 'audit.log')
  const lines = chainedLines(3)
  writeLines(path, lines)
  const before = await verifyChain([path])
  lines[2] = (lines[2] as string).replace('record 3', 'record three')
  writeLines(path, lines)
  const after = await verifyChain([path])
  t.equal(after.ok, true)
  t.not(after.lastHash, before.lastHash)
})

t.test('a record changed to keep its own line valid but with a new seq is reported as missing or reordered', async (t) => {
  const path = join(tempDir(), 'audit.log')
  const lines = chainedLines(4)
  const parsed = parseChainLine(lines[1] as string)
  lines[1] = chainLine(7, parsed?.prev as string, { v: 1, type: 'request', note: 'record 2' })
  writeLines(path, lines)
  t.match((await verifyChain([path])).break, { line: 2, seq: 7, reason: /expected seq 2, found 7/ })
})

t.test('deleting a record breaks the chain where it was', async (t) => {
  const path = join(tempDir(), 'audit.log')
  const lines = chainedLines(6)
  lines.splice(3, 1) // seq 4
  writeLines(path, lines)
  const report = await verifyChain([path])
  t.equal(report.ok, false)
  t.same(report.break, { file: path, line: 4, seq: 5, reason: 'expected seq 4, found 5 (records missing or reordered)' })
})

t.test('reordering two records breaks the chain at the first of them', async (t) => {
  const path = join(tempDir(), 'audit.log')
  const lines = chainedLines(6)
  const [third, fourth] = [lines[2] as string, lines[3] as string]
  lines[2] = fourth
  lines[3] = third
  writeLines(path, lines)
  t.same((await verifyChain([path])).break, { file: path, line: 3, seq: 4, reason: 'expected seq 3, found 4 (records missing or reordered)' })
})

t.test('renumbering after a deletion still breaks the chain: prev no longer matches', async (t) => {
  const path = join(tempDir(), 'audit.log')
  const lines = chainedLines(5)
  const tail = lines.slice(3).map((line) => {
    const parsed = parseChainLine(line)
    const { seq, prev, ...rest } = parsed?.record as Record<string, unknown>
    void prev
    return chainLine((seq as number) - 1, parsed?.prev as string, rest)
  })
  writeLines(path, [...lines.slice(0, 2), ...tail]) // seq 3 removed, 4 and 5 renumbered
  t.match((await verifyChain([path])).break, { line: 3, seq: 3, reason: /prev does not match/ })
})

t.test('the chain continues across rotated files, given in any order', async (t) => {
  const dir = tempDir()
  const lines = chainedLines(9)
  const files = [join(dir, 'audit.log.2025-01-01.000000000001'), join(dir, 'audit.log.2025-01-02.000000000004'), join(dir, 'audit.log')]
  writeLines(files[0] as string, lines.slice(0, 3))
  writeLines(files[1] as string, lines.slice(3, 6))
  writeLines(files[2] as string, lines.slice(6))
  const report = await verifyChain([files[2] as string, files[0] as string, files[1] as string])
  t.match(report, { ok: true, records: 9, firstSeq: 1, lastSeq: 9, fromGenesis: true })
  t.same(report.files, files, 'files are walked in chain order')
})

t.test('leaving out a whole middle rotated file breaks the chain at the first record after the gap', async (t) => {
  const dir = tempDir()
  const lines = chainedLines(9)
  const first = join(dir, 'audit.log.2025-01-01.000000000001')
  const current = join(dir, 'audit.log')
  writeLines(first, lines.slice(0, 3))
  writeLines(current, lines.slice(6)) // audit.log.2025-01-02.000000000004 deleted
  const report = await verifyChain([first, current])
  t.equal(report.ok, false)
  t.same(report.break, { file: current, line: 1, seq: 7, reason: 'expected seq 4, found 7 (records missing or reordered)' })
})

t.test('verify reports a torn last line as a torn tail, not tampering', async (t) => {
  const path = join(tempDir(), 'audit.log')
  const lines = chainedLines(4)
  const torn = chainedLines(1, 5, hashLine(lines[3] as string))[0]?.slice(0, 30) as string
  writeLines(path, lines, torn)
  const report = await verifyChain([path])
  t.equal(report.ok, true)
  t.equal(report.break, undefined)
  t.same(report.tornTail, { file: path, line: 5, bytes: 30 })
  t.match(report, { records: 4, lastSeq: 4 })
})

t.test('an incomplete line at the end of a rotated file, with files after it, is a break', async (t) => {
  const dir = tempDir()
  const lines = chainedLines(6)
  const rotated = join(dir, 'audit.log.2025-01-01.000000000001')
  const current = join(dir, 'audit.log')
  writeLines(rotated, lines.slice(0, 3), '{"seq":4,"prev')
  writeLines(current, lines.slice(3))
  const report = await verifyChain([rotated, current])
  t.equal(report.ok, false)
  t.same(report.break, { file: rotated, line: 4, reason: 'an incomplete line in the middle of the trail' })
})

t.test('a line that is not a chained record is a break', async (t) => {
  const path = join(tempDir(), 'audit.log')
  const lines = chainedLines(3)
  writeLines(path, [lines[0] as string, '{"type":"request","note":"inserted"}', ...lines.slice(1)])
  t.same((await verifyChain([path])).break, { file: path, line: 2, reason: 'not a chained audit record' })
})

t.test('a file set that does not start at seq 1 verifies with fromGenesis false', async (t) => {
  const dir = tempDir()
  const all = chainedLines(8)
  const path = join(dir, 'audit.log')
  writeLines(path, all.slice(4)) // the files holding seq 1–4 were archived elsewhere
  const report = await verifyChain([path])
  t.match(report, { ok: true, fromGenesis: false, firstSeq: 5, lastSeq: 8, records: 4 })
})

t.test('a first record at seq 1 whose prev is not the genesis hash is a break', async (t) => {
  const path = join(tempDir(), 'audit.log')
  writeLines(path, chainedLines(2, 1, 'f'.repeat(64)))
  t.match((await verifyChain([path])).break, { line: 1, seq: 1, reason: 'the first record does not start from the genesis hash' })
})
