// The audit trail file: append-only JSON lines in a hash chain, each record on disk (fdatasync) before
// `append` resolves. Appends that arrive while a sync is running are written and synced together in
// the next batch (group commit), so durability costs one sync per batch, not one per record.
import { basename, dirname, join } from 'node:path'
import { hostname } from 'node:os'
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises'
import { chainLine, GENESIS_HASH, hashLine, parseChainLine, readFirstLine, readTail, type ChainHead } from './chain.ts'

/** The file operations the trail needs; tests substitute failing ones. */
export interface TrailFile {
  append (data: Buffer): Promise<void>
  sync (): Promise<void>
  truncate (length: number): Promise<void>
  close (): Promise<void>
  /** The file's current size; lets the trail notice another writer. Optional for test doubles. */
  size? (): Promise<number>
}

export type OpenTrailFile = (path: string) => Promise<TrailFile>

export const openTrailFile: OpenTrailFile = async (path) => {
  const handle: FileHandle = await open(path, 'a', 0o640)
  return {
    async append (data) {
      let written = 0
      while (written < data.length) {
        const { bytesWritten } = await handle.write(data, written, data.length - written)
        if (bytesWritten === 0) throw new Error('audit write made no progress')
        written += bytesWritten
      }
    },
    sync: () => handle.datasync(),
    truncate: (length) => handle.truncate(length),
    close: () => handle.close(),
    size: async () => (await handle.stat()).size
  }
}

/** Raised when the file grew behind our back: another process is appending to the same trail. */
export class ConcurrentWriterError extends Error {
  constructor () {
    super('another process is writing to this audit trail; refusing to interleave records')
    this.name = 'ConcurrentWriterError'
  }
}

interface LockOwner { pid: number, hostname: string }

function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** A hidden file next to the trail, so `audit.log*` globs never pick it up. */
function lockPathOf (path: string): string {
  return join(dirname(path), `.${basename(path)}.lock`)
}

/**
 * Takes the trail's lock file for this process. A lock held by a live process on this host refuses the start; a
 * lock left by a crash (its process gone, or another host such as a previous container) is taken over.
 */
async function takeLock (lockPath: string): Promise<void> {
  const mine = JSON.stringify({ pid: process.pid, hostname: hostname() } satisfies LockOwner)
  try {
    await writeFile(lockPath, mine, { flag: 'wx', mode: 0o640 })
    return
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
  let owner: Partial<LockOwner> = {}
  try {
    owner = JSON.parse(await readFile(lockPath, 'utf8')) as Partial<LockOwner>
  } catch {}
  if (owner.hostname === hostname() && typeof owner.pid === 'number' && owner.pid !== process.pid && isAlive(owner.pid)) {
    throw Object.assign(new Error(`process ${owner.pid} already writes this audit trail (${lockPath})`), { code: 'ELOCKED' })
  }
  await writeFile(lockPath, mine, { mode: 0o640 })
}

async function syncDirectory (path: string): Promise<void> {
  const handle = await open(path, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

export class AuditWriteError extends Error {
  constructor (cause: unknown) {
    super('the audit record could not be written', { cause })
    this.name = 'AuditWriteError'
  }
}

export interface AuditTrailOptions {
  path: string
  rotateBytes: number
  rotateDaily: boolean
  openFile?: OpenTrailFile
  now?: () => Date
  /** Called after each batch with its size and the time the write and sync took. */
  onBatch?: (records: number, ms: number) => void
  onError?: (error: unknown) => void
}

interface Pending {
  record: Record<string, unknown>
  resolve: () => void
  reject: (error: Error) => void
}

/** What recovery found when the trail was opened. */
export interface OpenReport {
  head: ChainHead
  tornTail?: { bytes: number, sha256: string }
}

const MAX_BATCH = 4096
const utcDay = (date: Date): string => date.toISOString().slice(0, 10)

export class AuditTrail {
  readonly path: string
  readonly #options: AuditTrailOptions
  readonly #openFile: OpenTrailFile
  readonly #now: () => Date
  #file: TrailFile | undefined
  #offset = 0
  #seq = 0
  #prev = GENESIS_HASH
  #fileFirstSeq = 1
  #fileDay: string | undefined
  #queue: Pending[] = []
  #flushing: Promise<void> | undefined
  #closed = false
  /** False after a failed write, until a write succeeds again. */
  healthy = true
  failures = 0

  private constructor (options: AuditTrailOptions) {
    this.path = options.path
    this.#options = options
    this.#openFile = options.openFile ?? openTrailFile
    this.#now = options.now ?? (() => new Date())
  }

  /** Opens the trail, continuing the chain from what is on disk (across rotation and a crash's torn tail). */
  static async open (options: AuditTrailOptions): Promise<{ trail: AuditTrail, report: OpenReport }> {
    const trail = new AuditTrail(options)
    const report = await trail.#recover()
    return { trail, report }
  }

  get head (): ChainHead { return { seq: this.#seq, prev: this.#prev } }
  get pending (): number { return this.#queue.length }

  /** Appends one record; resolves once it is on disk, rejects with AuditWriteError if it cannot be. */
  append (record: Record<string, unknown>): Promise<void> {
    if (this.#closed) return Promise.reject(new AuditWriteError(new Error('the audit trail is closed')))
    return new Promise((resolve, reject) => {
      this.#queue.push({ record, resolve, reject })
      this.#flushing ??= this.#flush()
    })
  }

  /** Writes what is queued, then closes the file. Later appends are refused. */
  async close (): Promise<void> {
    this.#closed = true
    while (this.#flushing !== undefined) await this.#flushing
    await this.#file?.close()
    this.#file = undefined
    await rm(lockPathOf(this.path), { force: true })
  }

  async #flush (): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, MAX_BATCH)
        await this.#writeBatch(batch)
      }
    } finally {
      this.#flushing = undefined
    }
  }

  async #writeBatch (batch: Pending[]): Promise<void> {
    const started = performance.now()
    let seq = this.#seq
    let prev = this.#prev
    const lines: string[] = []
    for (const { record } of batch) {
      seq += 1
      const line = chainLine(seq, prev, record)
      prev = hashLine(line)
      lines.push(line)
    }
    const data = Buffer.from(`${lines.join('\n')}\n`, 'utf8')
    try {
      await this.#rotateIfDue(data.length)
      const file = this.#file ?? await this.#reopen()
      // Appends from another process would interleave with ours and break the chain: stop at the first sign.
      if (file.size !== undefined && await file.size() !== this.#offset) throw new ConcurrentWriterError()
      try {
        await file.append(data)
        await file.sync()
      } catch (error) {
        // Cut off whatever part of the batch reached the file, so the chain on disk stays whole.
        await file.truncate(this.#offset).catch(() => {})
        throw error
      }
    } catch (error) {
      this.healthy = false
      this.failures += 1
      this.#options.onError?.(error)
      const failure = new AuditWriteError(error)
      for (const pending of batch) pending.reject(failure)
      return
    }
    this.#offset += data.length
    this.#seq = seq
    this.#prev = prev
    this.#fileDay ??= utcDay(this.#now())
    this.healthy = true
    this.#options.onBatch?.(batch.length, performance.now() - started)
    for (const pending of batch) pending.resolve()
  }

  async #reopen (): Promise<TrailFile> {
    this.#file = await this.#openFile(this.path)
    return this.#file
  }

  async #rotateIfDue (incoming: number): Promise<void> {
    if (this.#offset === 0) return
    const bySize = this.#offset + incoming > this.#options.rotateBytes
    const byDay = this.#options.rotateDaily && this.#fileDay !== undefined && this.#fileDay !== utcDay(this.#now())
    if (!bySize && !byDay) return
    await this.#file?.close()
    this.#file = undefined
    // Named by the day and first sequence number of the records it holds, so names sort in chain order.
    const rotated = `${this.path}.${this.#fileDay ?? utcDay(this.#now())}.${String(this.#fileFirstSeq).padStart(12, '0')}`
    await rename(this.path, rotated)
    this.#offset = 0
    this.#fileFirstSeq = this.#seq + 1
    this.#fileDay = undefined
    await this.#reopen()
    await syncDirectory(dirname(this.path))
  }

  /** Finds the chain head on disk and trims a torn last line, returning what it found. */
  async #recover (): Promise<OpenReport> {
    const directory = dirname(this.path)
    await mkdir(directory, { recursive: true })
    await takeLock(lockPathOf(this.path))
    const report: OpenReport = { head: { seq: 0, prev: GENESIS_HASH } }

    let size = 0
    try {
      size = (await stat(this.path)).size
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
    /** The chain head from a file's last complete line, if it has one. */
    const headOf = (path: string, line: string | undefined): ChainHead | undefined => {
      if (line === undefined) return undefined
      const parsed = parseChainLine(line)
      if (parsed === undefined) {
        throw new Error(`${path}: the last complete line is not an audit record; run \`npm run audit -- verify\` and move the file aside`)
      }
      return { seq: parsed.seq, prev: hashLine(line), at: path }
    }

    let currentHead: ChainHead | undefined
    if (size > 0) {
      const tail = await readTail(this.path)
      if (tail.tornBytes.length > 0) report.tornTail = { bytes: tail.tornBytes.length, sha256: hashLine(tail.tornBytes) }
      currentHead = headOf(this.path, tail.lastLine)
    }
    if (currentHead !== undefined) {
      report.head = currentHead
      const first = await readFirstLine(this.path)
      const firstRecord = first === undefined ? undefined : parseChainLine(first)
      this.#fileFirstSeq = firstRecord?.seq ?? currentHead.seq + 1
      const time = firstRecord?.record.time
      if (typeof time === 'string') this.#fileDay = time.slice(0, 10)
    } else {
      // The current file is missing, empty, or holds only a torn line: the chain continues from the
      // newest rotated file, if there is one.
      const rotated = await this.#latestRotated()
      if (rotated !== undefined) {
        const tail = await readTail(rotated)
        if (tail.tornBytes.length > 0) throw new Error(`${rotated}: a rotated audit file ends with an incomplete line`)
        report.head = headOf(rotated, tail.lastLine) ?? report.head
      }
      this.#fileFirstSeq = report.head.seq + 1
    }

    this.#seq = report.head.seq
    this.#prev = report.head.prev
    const file = await this.#reopen()
    this.#offset = size - (report.tornTail?.bytes ?? 0)
    if (report.tornTail !== undefined) {
      await file.truncate(this.#offset)
      await file.sync()
    }
    await syncDirectory(directory)
    return report
  }

  async #latestRotated (): Promise<string | undefined> {
    const directory = dirname(this.path)
    const prefix = `${basename(this.path)}.`
    let best: { name: string, seq: number } | undefined
    for (const name of await readdir(directory)) {
      const match = name.startsWith(prefix) ? /^\d{4}-\d{2}-\d{2}\.(\d{12})$/.exec(name.slice(prefix.length)) : null
      if (match === null) continue
      const seq = Number(match[1])
      if (best === undefined || seq > best.seq) best = { name, seq }
    }
    return best === undefined ? undefined : join(directory, best.name)
  }
}
