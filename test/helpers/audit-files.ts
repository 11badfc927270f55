// Audit trail files for tests: chains written by hand (to tamper with), the trail's file set, and an
// audit sink whose writes and syncs a test can make fail or hold back.
import { readFileSync, writeFileSync } from 'node:fs'
import { chainLine, GENESIS_HASH, hashLine } from '../../src/audit/chain.ts'
import { openTrailFile, type OpenTrailFile, type TrailFile } from '../../src/audit/trail.ts'
import { defaultFiles } from '../../src/cli/audit.ts'

/** `count` chained record lines starting at `startSeq`, as the trail writes them. */
export function chainedLines (count: number, startSeq = 1, prev = GENESIS_HASH, make: (seq: number) => Record<string, unknown> = (seq) => ({ v: 1, type: 'request', note: `record ${seq}` })): string[] {
  const lines: string[] = []
  let previous = prev
  for (let seq = startSeq; seq < startSeq + count; seq += 1) {
    const line = chainLine(seq, previous, make(seq))
    lines.push(line)
    previous = hashLine(line)
  }
  return lines
}

export function writeLines (path: string, lines: readonly string[], tail = ''): void {
  writeFileSync(path, lines.map((line) => `${line}\n`).join('') + tail)
}

export function fileLines (path: string): string[] {
  return readFileSync(path, 'utf8').split('\n').filter((line) => line !== '')
}

export function records (path: string): Array<Record<string, unknown>> {
  return fileLines(path).map((line) => JSON.parse(line) as Record<string, unknown>)
}

/** The trail at `path` and its rotated files, in chain order. */
export async function trailFiles (path: string): Promise<string[]> {
  return defaultFiles(path)
}

/** All records of the trail at `path`, rotated files included, in chain order. */
export async function allRecords (path: string): Promise<Array<Record<string, unknown>>> {
  return (await trailFiles(path)).flatMap((file) => records(file))
}

export function errnoError (code: string, message = code): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code })
}

/**
 * A sink over the real file whose failures a test controls. `failAppend(data)` returning an error makes
 * that write fail after writing half of the data (as a full disk does), `failSync` makes syncs fail,
 * `holdSyncs` makes syncs wait until `releaseSyncs()`.
 */
export class ControlledSink {
  failAppend: (data: Buffer) => Error | undefined = () => undefined
  failSync: Error | undefined
  holdSyncs = false
  appends = 0
  syncs = 0
  #held: Array<() => void> = []
  #syncWaiters: Array<() => void> = []

  readonly openFile: OpenTrailFile = async (path) => {
    const real: TrailFile = await openTrailFile(path)
    return {
      append: async (data) => {
        this.appends += 1
        const error = this.failAppend(data)
        if (error !== undefined) {
          await real.append(data.subarray(0, Math.floor(data.length / 2)))
          throw error
        }
        await real.append(data)
      },
      sync: async () => {
        this.syncs += 1
        for (const waiter of this.#syncWaiters.splice(0)) waiter()
        if (this.holdSyncs) await new Promise<void>((resolve) => { this.#held.push(resolve) })
        if (this.failSync !== undefined) throw this.failSync
        await real.sync()
      },
      truncate: (length) => real.truncate(length),
      close: () => real.close()
    }
  }

  /** Resolves when the next sync starts. */
  syncStarted (): Promise<void> {
    return new Promise((resolve) => { this.#syncWaiters.push(resolve) })
  }

  releaseSyncs (): void {
    this.holdSyncs = false
    for (const release of this.#held.splice(0)) release()
  }

  get heldSyncs (): number { return this.#held.length }
}

/** Fails every write whose records include one of `types` (e.g. only outcome records). */
export function failRecordsOfType (...types: string[]): (data: Buffer) => Error | undefined {
  return (data) => types.some((type) => data.includes(`"type":"${type}"`)) ? errnoError('ENOSPC', 'ENOSPC: no space left on device, write') : undefined
}
