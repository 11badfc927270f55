// The committed OpenAPI document passes a real linter: Redocly's CLI, every built-in rule plus the rules in
// redocly.yaml, with no ignore file. `npm run lint:openapi` runs the same check by hand.
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { OPENAPI_FILE } from '../../src/cli/openapi.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const REDOCLY = join(ROOT, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js')
const ROUTE = '/users/{userId}/sync-relations/{provider}'

interface LintReport {
  totals: { errors: number, warnings: number, ignored: number }
  problems: Array<{ ruleId: string, severity: string, message: string, location: Array<{ pointer?: string }> }>
}

/** Runs `redocly lint --format=json` offline (no telemetry, no update check) and parses its report. */
async function lint (args: string[]): Promise<{ exitCode: number, report: LintReport }> {
  return await new Promise((resolve, reject) => {
    execFile(process.execPath, [REDOCLY, 'lint', '--format=json', ...args], {
      cwd: ROOT,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
      maxBuffer: 16 * 1024 * 1024,
      timeout: 120_000
    }, (error, stdout, stderr) => {
      const exitCode = error === null ? 0 : typeof error.code === 'number' ? error.code : -1
      try {
        resolve({ exitCode, report: JSON.parse(stdout) as LintReport })
      } catch {
        reject(new Error(`redocly printed no JSON report (exit ${exitCode}): ${stderr.slice(0, 2000)}`))
      }
    })
  })
}

function describe (report: LintReport): string {
  return report.problems.map((problem) => `${problem.severity} ${problem.ruleId}: ${problem.message} at ${problem.location[0]?.pointer ?? '?'}`).join('\n')
}

t.test('openapi/openapi.json passes `redocly lint` with the committed configuration: no error, no warning, nothing ignored', async (t) => {
  t.ok(existsSync(join(ROOT, 'redocly.yaml')), 'the configuration is committed')
  t.notOk(existsSync(join(ROOT, '.redocly.lint-ignore.yaml')), 'no problem is ignored')
  const { exitCode, report } = await lint([])
  t.same(report.totals, { errors: 0, warnings: 0, ignored: 0 }, describe(report))
  t.equal(exitCode, 0)
})

t.test('the configuration catches what the document must have', async (t) => {
  // A copy of the document with one defect per requirement; each must be reported by the rule that guards it.
  const document = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8'))
  const operation = document.paths[ROUTE].delete
  delete operation.summary
  delete operation.parameters.find((parameter: { name: string }) => parameter.name === 'userId').example
  delete operation.responses['404'].content['application/json'].examples
  operation.responses['502'].content['application/json'].schema = { type: 'object', properties: { code: { type: 'string', example: 'X' } } }
  delete operation.responses['401'].headers['WWW-Authenticate']
  delete operation.responses['200'].headers['X-Request-Id'].example
  delete operation.security
  delete operation.tags

  const dir = mkdtempSync(join(tmpdir(), 'srp-lint-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  const file = join(dir, 'openapi.json')
  writeFileSync(file, JSON.stringify(document, null, 2))

  const { exitCode, report } = await lint([file, '--config', join(ROOT, 'redocly.yaml')])
  t.not(exitCode, 0)
  const rules = new Set(report.problems.map((problem) => problem.ruleId))
  for (const rule of [
    'operation-summary',
    'rule/operation-has-operation-id-tag-summary-description-security',
    'rule/parameter-has-description-and-example',
    'rule/response-body-has-examples',
    'rule/errors-use-the-error-envelope',
    'response-contains-header',
    'rule/header-has-description-and-example',
    'security-defined'
  ]) {
    t.ok(rules.has(rule), `${rule} is reported`)
  }
})
