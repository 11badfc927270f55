// A real browser for the docs tests: Debian's Chromium (installed by .ci/run with apt), driven by
// playwright-core. Never a downloaded browser. Each launch gets a fresh profile and talks only to this machine.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core'

export const CHROMIUM = '/usr/bin/chromium'

/** Why browser tests cannot run here, or undefined when they can. */
export function browserUnavailable (): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is not installed (CI installs it: apt-get install chromium, see .ci/run)`
}

/** Where tests leave screenshots (gitignored). */
export const ARTIFACTS_DIR = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))

export function artifactPath (name: string): string {
  mkdirSync(ARTIFACTS_DIR, { recursive: true })
  return join(ARTIFACTS_DIR, name)
}

/**
 * A hostname that is not `localhost`, so the page's origin is an ordinary http:// origin (not a "potentially
 * trustworthy" one): what a colleague gets when opening http://<this machine>:3000/docs. The machine's own
 * name, unless it is a localhost alias.
 */
export function publicHostname (): string {
  const name = hostname().toLowerCase()
  const usable = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(name) && name !== 'localhost' && !name.endsWith('.localhost')
  return usable ? name : 'sync-relations-proxy.test'
}

/** Patterns of console errors that are expected on plain HTTP and harmless. */
const EXPECTED_CONSOLE_ERRORS = [
  // helmet's Cross-Origin-Opener-Policy only takes effect over HTTPS (behind a TLS gateway); Chromium says so.
  /Cross-Origin-Opener-Policy header has been ignored, because the URL's origin was untrustworthy/
]

export interface Browser {
  context: BrowserContext
  page: Page
  /** Console errors other than the expected ones (a CSP violation or a script error shows up here). */
  consoleErrors: string[]
  /** Requests that failed at the network level (blocked, refused, aborted). */
  failedRequests: string[]
  /** Every URL the page requested. */
  requested: string[]
}

/**
 * Launches headless Chromium with a fresh profile. `host` resolves to 127.0.0.1 inside the browser, whatever
 * DNS says, so the page's origin is http://<host>:<port> while every byte stays on the loopback interface.
 */
export async function launchBrowser (t: { teardown: (fn: () => unknown) => void }, host: string): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'srp-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--no-proxy-server', `--host-resolver-rules=MAP ${host} 127.0.0.1`
    ],
    viewport: { width: 1280, height: 900 },
    timeout: 60_000
  })
  t.teardown(async () => {
    await context.close()
    rmSync(profile, { recursive: true, force: true })
  })
  context.setDefaultTimeout(30_000)
  const page = context.pages()[0] ?? await context.newPage()
  const browser: Browser = { context, page, consoleErrors: [], failedRequests: [], requested: [] }
  page.on('console', (message: ConsoleMessage) => {
    if (message.type() === 'error' && !EXPECTED_CONSOLE_ERRORS.some((pattern) => pattern.test(message.text()))) {
      browser.consoleErrors.push(message.text())
    }
  })
  page.on('pageerror', (error) => { browser.consoleErrors.push(`page error: ${error.message}`) })
  page.on('request', (request) => { browser.requested.push(request.url()) })
  page.on('requestfailed', (request) => { browser.failedRequests.push(`${request.url()}: ${request.failure()?.errorText ?? 'failed'}`) })
  return browser
}

// Swagger UI, driven the way a person does it. Selectors are Swagger UI's own class names.

/** Opens the Authorize dialog, enters the caller key for the bearer scheme, applies it and closes the dialog. */
export async function authorize (page: Page, key: string): Promise<void> {
  await page.locator('button.authorize').first().click()
  const dialog = page.locator('.modal-ux')
  await dialog.locator('#auth-bearer-value').fill(key)
  await dialog.locator('button.authorize').click()
  await dialog.getByText('Authorized').waitFor()
  await dialog.locator('button.btn-done').click()
  await dialog.waitFor({ state: 'detached' })
}

/** Opens the Authorize dialog, logs out and closes it: requests go without Authorization from then on. */
export async function logout (page: Page): Promise<void> {
  await page.locator('button.authorize').first().click()
  const dialog = page.locator('.modal-ux')
  await dialog.locator('button', { hasText: 'Logout' }).click()
  await dialog.locator('#auth-bearer-value').waitFor()
  await dialog.locator('button.btn-done').click()
  await dialog.waitFor({ state: 'detached' })
}

export interface Execution {
  /** What the browser received. */
  status: number
  /** The URL the browser called. */
  url: string
  /** The Authorization header the browser sent, if any. */
  authorization: string | undefined
  /** What Swagger UI rendered: the status code cell, the Request URL box and the response body. */
  rendered: { status: string, requestUrl: string, body: string }
}

/**
 * In the DELETE operation's panel (opened, in "Try it out" mode), enters the parameters, clicks Execute and
 * waits for Swagger UI to render the server's response.
 */
export async function tryItOut (page: Page, parameters: { userId: string, provider: string, userIdType?: string }): Promise<Execution> {
  const operation = page.locator('.opblock-delete').first()
  if (!(await operation.locator('.opblock-body').isVisible())) await operation.locator('.opblock-summary').click()
  const tryOut = operation.locator('button.try-out__btn', { hasText: 'Try it out' })
  if (await tryOut.isVisible()) await tryOut.click()
  const clear = operation.locator('button.btn-clear')
  if (await clear.isVisible()) await clear.click()
  await operation.locator('tr[data-param-name="userId"] input').fill(parameters.userId)
  await operation.locator('tr[data-param-name="provider"] select').selectOption(parameters.provider)
  await operation.locator('tr[data-param-name="userIdType"] select').selectOption(parameters.userIdType ?? 'user_id')
  const [response] = await Promise.all([
    page.waitForResponse((candidate) => candidate.request().method() === 'DELETE' && candidate.url().includes('/sync-relations/')),
    operation.locator('button.execute').click()
  ])
  const live = operation.locator('.live-responses-table')
  await live.waitFor()
  return {
    status: response.status(),
    url: response.url(),
    authorization: await response.request().headerValue('authorization') ?? undefined,
    rendered: {
      status: (await live.locator('tbody .response-col_status').first().innerText()).trim(),
      requestUrl: (await operation.locator('.request-url pre').innerText()).trim(),
      body: await live.locator('.response-col_description .highlight-code pre').first().innerText()
    }
  }
}

/**
 * Scrolls the executed request (its curl command, with the Authorization header Swagger UI sent) to the top
 * of the window, so the rendered server response is below it, and saves the visible part of the page.
 */
export async function screenshotResponse (page: Page, name: string): Promise<string> {
  const path = artifactPath(name)
  await page.locator('.opblock-delete .curl-command').first().evaluate((element) => { element.scrollIntoView({ block: 'start' }) })
  await page.screenshot({ path })
  return path
}
