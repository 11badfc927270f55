// `npm run caller-key -- <name> [providers…]`: makes a new caller key, prints it once, and prints the
// entry to paste into CALLERS_FILE. Only the hash goes into the file; the key itself is stored nowhere.
import { parseArgs } from 'node:util'
import { generateKey, hashKey } from '../callers/registry.ts'
import { DOCUMENTED_PROVIDERS } from '../schemas/identifiers.ts'

const USAGE = `usage: npm run caller-key -- <caller-name> [provider…]

  caller-name  lowercase letters, digits, '.', '_' or '-' (e.g. hr-offboarding)
  provider     providers the caller may act on (default: all, "*")

Prints a new key once, and the CALLERS_FILE entry holding its hash. To rotate a caller's key, add the
new hash to its "keys" list, move the caller to the new key, then remove the old hash.`

const { positionals, values } = parseArgs({ allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } })
if (values.help === true) {
  process.stdout.write(`${USAGE}\n`)
  process.exit(0)
}
const [name, ...providers] = positionals
const problems: string[] = []
if (name === undefined || !/^[a-z0-9][a-z0-9._-]{0,63}$/.test(name)) problems.push('a caller name is required: lowercase letters, digits, ".", "_" or "-", at most 64 characters')
const known = new Set<string>([...DOCUMENTED_PROVIDERS, ...(process.env.AUTHING_EXTRA_PROVIDERS ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '')])
for (const provider of providers) {
  if (provider !== '*' && !known.has(provider)) problems.push(`unknown provider "${provider}" (known: ${[...known].join(', ')}; add others with AUTHING_EXTRA_PROVIDERS)`)
}
if (providers.includes('*') && providers.length > 1) problems.push('"*" must stand alone')
if (problems.length > 0) {
  process.stderr.write(`${problems.map((problem) => `error: ${problem}`).join('\n')}\n\n${USAGE}\n`)
  process.exit(2)
}

const key = generateKey()
const entry = { name, keys: [hashKey(key)], providers: providers.length > 0 ? providers : ['*'] }
process.stdout.write(`New key for caller "${name}" (shown only this once; hand it over through your secret store):

  ${key}

Entry for CALLERS_FILE (add it to the JSON array, then send SIGHUP or wait a few seconds for the reload):

  ${JSON.stringify(entry)}
${providers.length === 0 ? '\nNote: no providers given, so this caller may act on every provider ("*").\n' : ''}`)
