// `npm run audit -- verify|find`: the investigator's side of the audit trail.
//   verify walks the hash chain over the trail's files and reports the first break (exit 1), or that
//          it holds (exit 0); a torn last line, as a crash leaves it, is reported but is not tampering.
//   find   lists the records about a user id (hashing personal ids with the audit HMAC key, as the
//          service does), a caller, a provider, an outcome, a request id or a time window.
// Usage errors and unreadable files exit 2 with one line, never a stack trace. The key is never printed.
import { createReadStream, readFileSync } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { SANDBOX_AUDIT_HMAC_KEY } from '../config.ts'
import { parseChainLine, readFirstLine, verifyChain, type VerifyReport } from '../audit/chain.ts'
import { keyedHash } from '../audit/records.ts'
import { isUserIdType, PERSONAL_USER_ID_TYPES, USER_ID_TYPES } from '../schemas/identifiers.ts'

export const EXIT_OK = 0
export const EXIT_BROKEN = 1
export const EXIT_USAGE = 2

const DEFAULT_AUDIT_LOG_PATH = './data/audit.log'
const OUTCOMES = ['success', 'rejected', 'authing_error', 'upstream_fault', 'unavailable', 'served'] as const
const ROTATED_SUFFIX = /^\d{4}-\d{2}-\d{2}\.(\d{12})$/

export const USAGE = `Usage:
  npm run audit -- verify [--json] [<file>...]
  npm run audit -- find [filters] [--json] [<file>...]

verify  Walks the hash chain over the files (in chain order, whatever order they are given in) and
        reports the first break: the file, line, seq and reason. Exit 0 when the chain holds, 1 when
        it is broken, 2 on a usage error. A torn last line (an interrupted write, as a crash leaves
        it) is reported, but is not tampering: exit 0.

find    Prints the records that match every filter given: one line per record, or with --json the
        records as JSON lines.
  --user-id <value>       records about this user id: stored in the clear (opaque ids) or as its
                          HMAC-SHA256 under AUDIT_HMAC_KEY / AUDIT_HMAC_KEY_FILE (email, phone,
                          username)
  --user-id-type <type>   only records with this userIdType (${USER_ID_TYPES.join(', ')})
  --caller <name>         only records of this caller
  --provider <provider>   only records for this provider
  --outcome <outcome>     only records with this outcome (${OUTCOMES.join(', ')})
  --request-id <id>       only records of this request (the X-Request-Id the caller received)
  --since <ISO time>      only records written at or after this time
  --until <ISO time>      only records written before this time

Files: the audit trail files. Default: AUDIT_LOG_PATH (default ${DEFAULT_AUDIT_LOG_PATH}) and its
rotated siblings (<path>.<YYYY-MM-DD>.<12-digit seq>).
`

export interface Io {
  env: Record<string, string | undefined>
  stdout: (text: string) => void
  stderr: (text: string) => void
}

/** A problem the user can fix: reported as one line, exit 2. */
class UsageError extends Error {
  readonly showUsage: boolean
  constructor (message: string, showUsage = false) {
    super(message)
    this.name = 'UsageError'
    this.showUsage = showUsage
  }
}

/** The trail's files next to `path`: rotated ones by their first seq, then the current one. */
export async function defaultFiles (path: string): Promise<string[]> {
  const directory = dirname(path)
  const prefix = `${basename(path)}.`
  let names: string[]
  try {
    names = await readdir(directory)
  } catch (error) {
    throw new UsageError(`cannot read the directory of AUDIT_LOG_PATH ${directory}: ${describe(error)}`)
  }
  const rotated: Array<{ path: string, seq: number }> = []
  for (const name of names) {
    const match = name.startsWith(prefix) ? ROTATED_SUFFIX.exec(name.slice(prefix.length)) : null
    if (match !== null) rotated.push({ path: join(directory, name), seq: Number(match[1]) })
  }
  rotated.sort((a, b) => a.seq - b.seq)
  const files = rotated.map((file) => file.path)
  if (names.includes(basename(path))) files.push(path)
  if (files.length === 0) throw new UsageError(`no audit trail at ${path} (set AUDIT_LOG_PATH or name the files)`)
  return files
}

function describe (error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'ENOENT') return 'no such file or directory'
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied'
  if (code === 'EISDIR') return 'is a directory'
  return code ?? (error as Error).message
}

async function resolveFiles (given: string[], env: Io['env']): Promise<string[]> {
  if (given.length === 0) return defaultFiles(env.AUDIT_LOG_PATH || DEFAULT_AUDIT_LOG_PATH)
  for (const file of given) {
    let info
    try {
      info = await stat(file)
    } catch (error) {
      throw new UsageError(`cannot read ${file}: ${describe(error)}`)
    }
    if (!info.isFile()) throw new UsageError(`cannot read ${file}: not a regular file`)
  }
  return [...new Set(given)]
}

// ---- verify -------------------------------------------------------------------------------------------

export function verifyText (report: VerifyReport): string {
  const lines = ['Audit trail:', ...report.files.map((file, index) => `  ${index + 1}. ${file}`)]
  if (report.records === 0) lines.push('Records: none')
  else lines.push(`Records: ${report.records} (seq ${report.firstSeq} to ${report.lastSeq})`)
  if (report.firstSeq !== undefined) {
    lines.push(report.fromGenesis
      ? 'Start: the genesis record (seq 1): the trail is complete from its beginning'
      : `Start: seq ${report.firstSeq}, not the genesis record: earlier files are not included, so only the chain from there on is checked`)
  }
  if (report.break !== undefined) {
    const where = `${report.break.file}, line ${report.break.line}${report.break.seq !== undefined ? `, seq ${report.break.seq}` : ''}`
    lines.push(`BROKEN: the chain does not hold at ${where}: ${report.break.reason}`)
    lines.push(`  The ${report.records} records before that point verified.`)
  } else {
    if (report.tornTail !== undefined) {
      lines.push(`Torn tail: ${report.tornTail.file}, line ${report.tornTail.line} (${report.tornTail.bytes} bytes) is an incomplete last line: a torn tail (an interrupted write), not tampering.`)
      lines.push('  The service cuts it off and records that it did on its next start.')
    }
    lines.push(`OK: the chain holds${report.tornTail !== undefined ? ' up to the torn tail' : ''}.`)
  }
  return `${lines.join('\n')}\n`
}

async function verify (args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } }
  })
  if (values.help) {
    io.stdout(USAGE)
    return EXIT_OK
  }
  const files = await resolveFiles(positionals, io.env)
  let report: VerifyReport
  try {
    report = await verifyChain(files)
  } catch (error) {
    throw new UsageError(`cannot read the audit trail: ${describe(error)}`)
  }
  io.stdout(values.json ? `${JSON.stringify(report)}\n` : verifyText(report))
  return report.ok ? EXIT_OK : EXIT_BROKEN
}

// ---- find ---------------------------------------------------------------------------------------------

/** The HMAC key, as the service reads it; the sandbox key (with a warning) when none is configured. */
export function hmacKeyFrom (io: Io): string {
  const { AUDIT_HMAC_KEY: key, AUDIT_HMAC_KEY_FILE: file } = io.env
  if (key && file) throw new UsageError('AUDIT_HMAC_KEY and AUDIT_HMAC_KEY_FILE are both set: choose one')
  let value: string | undefined
  let source: string
  if (file) {
    source = 'AUDIT_HMAC_KEY_FILE'
    try {
      value = readFileSync(file, 'utf8').trim()
    } catch (error) {
      throw new UsageError(`AUDIT_HMAC_KEY_FILE: cannot read ${file}: ${describe(error)}`)
    }
  } else if (key) {
    source = 'AUDIT_HMAC_KEY'
    value = key
  } else {
    io.stderr('audit: warning: neither AUDIT_HMAC_KEY nor AUDIT_HMAC_KEY_FILE is set; hashing with the sandbox key, which only matches records written in sandbox mode\n')
    return SANDBOX_AUDIT_HMAC_KEY
  }
  if (value.length < 16) throw new UsageError(`${source}: the key must be at least 16 characters (the service refuses shorter ones)`)
  return value
}

function parseTime (name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined
  // ISO 8601 dates and date-times only: Date.parse accepts much more, and guesses.
  const at = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/.test(value) ? Date.parse(value) : Number.NaN
  if (Number.isNaN(at)) throw new UsageError(`--${name}: "${value.slice(0, 40)}" is not an ISO 8601 time, e.g. 2025-01-31 or 2025-01-31T09:00:00Z`, true)
  return at
}

type AuditRecord = Record<string, unknown>
type Filter = (record: AuditRecord) => boolean

function buildFilters (values: Record<string, string | boolean | undefined>, io: Io): Filter[] {
  const filters: Filter[] = []
  const text = (name: string): string | undefined => {
    const value = values[name]
    if (value === '') throw new UsageError(`--${name} must not be empty`, true)
    return typeof value === 'string' ? value : undefined
  }
  const userId = text('user-id')
  const userIdType = text('user-id-type')
  if (userIdType !== undefined) {
    if (!isUserIdType(userIdType)) throw new UsageError(`--user-id-type must be one of: ${USER_ID_TYPES.join(', ')}`, true)
    filters.push((record) => record.userIdType === userIdType)
  }
  if (userId !== undefined) {
    // An opaque id is stored as it is; a personal one (or one of unknown type) only as its keyed hash.
    const opaqueOnly = userIdType !== undefined && !PERSONAL_USER_ID_TYPES.has(userIdType)
    const hmac = opaqueOnly ? undefined : keyedHash(hmacKeyFrom(io), userId)
    filters.push((record) => record.userId === userId || (hmac !== undefined && record.userIdHmac === hmac))
  }
  for (const [option, field] of [['caller', 'caller'], ['provider', 'provider'], ['request-id', 'requestId']] as const) {
    const value = text(option)
    if (value !== undefined) filters.push((record) => record[field] === value)
  }
  const outcome = text('outcome')
  if (outcome !== undefined) {
    if (!(OUTCOMES as readonly string[]).includes(outcome)) throw new UsageError(`--outcome must be one of: ${OUTCOMES.join(', ')}`, true)
    filters.push((record) => record.outcome === outcome)
  }
  const since = parseTime('since', text('since'))
  const until = parseTime('until', text('until'))
  if (since !== undefined && until !== undefined && since >= until) throw new UsageError('--since must be before --until', true)
  if (since !== undefined || until !== undefined) {
    filters.push((record) => {
      const at = typeof record.time === 'string' ? Date.parse(record.time) : Number.NaN
      if (Number.isNaN(at)) return false
      return (since === undefined || at >= since) && (until === undefined || at < until)
    })
  }
  return filters
}

/** The records of the files, in chain order (by the first seq of each file), with unreadable lines counted. */
async function * readRecords (files: string[], skipped: { lines: number }): AsyncGenerator<AuditRecord> {
  const ordered: Array<{ file: string, firstSeq: number }> = []
  for (const file of files) {
    const first = await readFirstLine(file)
    ordered.push({ file, firstSeq: (first === undefined ? undefined : parseChainLine(first))?.seq ?? Number.MAX_SAFE_INTEGER })
  }
  ordered.sort((a, b) => a.firstSeq - b.firstSeq)
  for (const { file } of ordered) yield * fileRecords(file, skipped)
}

async function * fileRecords (file: string, skipped: { lines: number }): AsyncGenerator<AuditRecord> {
  const input = createReadStream(file, { encoding: 'utf8' })
  const lines = createInterface({ input, crlfDelay: Infinity })
  try {
    for await (const line of lines) {
      if (line === '') continue
      let value: unknown
      try {
        value = JSON.parse(line)
      } catch {
        skipped.lines += 1
        continue
      }
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) yield value as AuditRecord
      else skipped.lines += 1
    }
  } finally {
    lines.close()
    input.destroy()
  }
}

const COLUMNS = ['time', 'seq', 'type', 'outcome', 'status', 'code', 'caller', 'provider', 'user', 'requestId'] as const

function row (record: AuditRecord): string[] {
  const user = typeof record.userId === 'string'
    ? `${String(record.userIdType ?? '?')}:${record.userId}`
    : typeof record.userIdHmac === 'string' ? `${String(record.userIdType ?? '?')}:hmac:${record.userIdHmac.slice(0, 12)}…` : '-'
  const typeText = record.type === 'lifecycle' && typeof record.event === 'string' ? `lifecycle:${record.event}` : record.type
  const cells: Record<(typeof COLUMNS)[number], unknown> = {
    time: record.time,
    seq: record.seq,
    type: typeText,
    outcome: record.outcome,
    status: record.status,
    code: record.reason === undefined ? record.code : `${String(record.code ?? '-')} (${String(record.reason)})`,
    caller: record.caller,
    provider: record.provider,
    user: user.length > 60 ? `${user.slice(0, 59)}…` : user,
    requestId: record.requestId
  }
  // eslint-disable-next-line no-control-regex
  return COLUMNS.map((column) => (cells[column] === undefined || cells[column] === null ? '-' : String(cells[column])).replace(/[\u0000-\u001f\u007f-\u009f]/g, '?'))
}

function table (rows: string[][]): string {
  const all = [[...COLUMNS], ...rows]
  const widths = COLUMNS.map((_, index) => Math.max(...all.map((cells) => (cells[index] ?? '').length)))
  return all.map((cells) => cells.map((cell, index) => index === cells.length - 1 ? cell : cell.padEnd(widths[index] ?? 0)).join('  ')).join('\n') + '\n'
}

async function find (args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      'user-id': { type: 'string' },
      'user-id-type': { type: 'string' },
      caller: { type: 'string' },
      provider: { type: 'string' },
      outcome: { type: 'string' },
      'request-id': { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false }
    }
  })
  if (values.help) {
    io.stdout(USAGE)
    return EXIT_OK
  }
  const filters = buildFilters(values, io)
  const files = await resolveFiles(positionals, io.env)
  const skipped = { lines: 0 }
  const rows: string[][] = []
  let matched = 0
  try {
    for await (const record of readRecords(files, skipped)) {
      if (!filters.every((filter) => filter(record))) continue
      matched += 1
      if (values.json) io.stdout(`${JSON.stringify(record)}\n`)
      else rows.push(row(record))
    }
  } catch (error) {
    throw new UsageError(`cannot read the audit trail: ${describe(error)}`)
  }
  if (!values.json && rows.length > 0) io.stdout(table(rows))
  io.stderr(`audit: ${matched} record${matched === 1 ? '' : 's'} matched in ${files.length} file${files.length === 1 ? '' : 's'}\n`)
  if (skipped.lines > 0) io.stderr(`audit: ${skipped.lines} line${skipped.lines === 1 ? ' was' : 's were'} not JSON and skipped (a torn tail, or damage: run verify)\n`)
  return EXIT_OK
}

// ---- entry --------------------------------------------------------------------------------------------

/** Runs the command; returns the exit code. Never throws for a user's mistake. */
export async function main (args: string[], io: Io): Promise<number> {
  const [command, ...rest] = args
  try {
    switch (command) {
      case 'verify': return await verify(rest, io)
      case 'find': return await find(rest, io)
      case 'help': case '--help': case '-h':
        io.stdout(USAGE)
        return EXIT_OK
      case undefined:
        throw new UsageError('a command is required: verify or find', true)
      default:
        throw new UsageError(`unknown command "${command.slice(0, 40)}": use verify or find`, true)
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (error instanceof UsageError || (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_'))) {
      io.stderr(`audit: ${(error as Error).message}\n`)
      if (!(error instanceof UsageError) || error.showUsage) io.stderr(`\n${USAGE}`)
      return EXIT_USAGE
    }
    throw error
  }
}

if (import.meta.main) {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    // `npm run audit -- find … | head`: stop quietly when the reader goes away.
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
    throw error
  })
  const code = await main(process.argv.slice(2), {
    env: process.env,
    stdout: (text) => { process.stdout.write(text) },
    stderr: (text) => { process.stderr.write(text) }
  })
  process.exitCode = code
}
