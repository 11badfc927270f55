// The README is part of the interface: its configuration and error tables must match the code.
import { readFileSync } from 'node:fs'
import t from 'tap'
import { EnvironmentSchema } from '../src/config.ts'
import { ERROR_CATALOG } from '../src/errors.ts'

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8')

t.test('the configuration table lists every environment variable with its default', async (t) => {
  for (const [name, schema] of Object.entries(EnvironmentSchema.properties) as Array<[string, { default?: unknown }]>) {
    const row = readme.split('\n').find((line) => line.startsWith(`| \`${name}\` |`))
    t.ok(row, `${name} is documented`)
    if (row !== undefined && schema.default !== undefined && schema.default !== '') t.ok(row.includes(`\`${String(schema.default)}\``), `${name} shows its default ${String(schema.default)}`)
  }
})

t.test('the error table lists every error code with its HTTP status', async (t) => {
  for (const [code, spec] of Object.entries(ERROR_CATALOG)) {
    t.match(readme, new RegExp(`\\| ${spec.status} \\| \`${code}\` \\|`), `${code} → ${spec.status}`)
  }
})
