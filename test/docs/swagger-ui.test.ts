// Swagger UI as a colleague meets it: Chromium opens http://<this machine's name>:<port>/docs over plain
// HTTP (an ordinary, non-localhost origin), authorizes with the sandbox caller key, and uses "Try it out"
// on the DELETE route. Screenshots go to test-artifacts/ (swagger-ui.png shows the 200).
import t from 'tap'
import { artifactPath, authorize, browserUnavailable, launchBrowser, logout, publicHostname, screenshotResponse, tryItOut } from '../helpers/browser.ts'
import { DEV_KEY, ZHANGSAN } from '../helpers/app.ts'
import { listenTestApp } from '../helpers/server.ts'

/** Chromium reports every 4xx answer to a fetch in the console; those are the point of the 400 and 401 steps. */
const EXPECTED_HTTP_ERRORS = /^Failed to load resource: the server responded with a status of (400|401) /

t.test('Swagger UI in Chromium over http://<hostname>:<port>/docs: authorize, try it out, see 200, 400 and 401', { skip: browserUnavailable() ?? false }, async (t) => {
  const service = await listenTestApp(t)
  const host = publicHostname()
  const origin = `http://${host}:${service.port}`
  const browser = await launchBrowser(t, host)
  const { page } = browser

  await page.goto(`${origin}/docs`)
  await page.locator('.opblock-delete').waitFor()
  t.equal(page.url(), `${origin}/docs/`, '/docs leads to /docs/')
  t.equal(await page.evaluate('window.isSecureContext'), false, 'the page is on a plain-HTTP, non-localhost origin')
  t.equal(await page.locator('.info .title').first().innerText().then((title) => title.startsWith('sync-relations-proxy')), true, 'the document loaded')
  t.same(browser.failedRequests, [], 'every asset loaded: nothing blocked by CSP, mixed content or an HTTPS upgrade')
  t.same(browser.consoleErrors, [], 'no script error, no CSP violation')
  t.same(browser.requested.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith('data:')), [], 'the page reaches nothing but this service (no validator, no CDN)')

  await authorize(page, DEV_KEY)

  const removed = await tryItOut(page, { userId: ZHANGSAN, provider: 'lark' })
  const screenshot = await screenshotResponse(page, 'swagger-ui.png')
  t.comment(`screenshot of the 200: ${screenshot}`)
  t.equal(removed.status, 200)
  t.equal(removed.url, `${origin}/users/${ZHANGSAN}/sync-relations/lark?userIdType=user_id`, 'Try it out calls this service, on the page\'s own origin')
  t.equal(removed.authorization, `Bearer ${DEV_KEY}`, 'with the key given to Authorize')
  t.equal(removed.rendered.status, '200', 'Swagger UI shows the 200')
  t.equal(removed.rendered.requestUrl, removed.url)
  t.match(JSON.parse(removed.rendered.body), { statusCode: 200, data: { success: true } }, 'and Authing\'s answer')
  const outcome = service.audit().find((record) => record.type === 'outcome' && record.userId === ZHANGSAN)
  t.match(outcome, { caller: 'sandbox-dev', provider: 'lark', outcome: 'success', status: 200 }, 'the sandbox relation is gone, and the trail says who removed it')

  const invalid = await tryItOut(page, { userId: 'not-an-email', provider: 'moka', userIdType: 'email' })
  await screenshotResponse(page, 'swagger-ui-400.png')
  t.equal(invalid.status, 400)
  t.equal(invalid.rendered.status, '400', 'Swagger UI shows the 400')
  t.match(JSON.parse(invalid.rendered.body), { statusCode: 400, code: 'INVALID_USER_ID' }, 'in the error envelope')

  await logout(page)
  const unauthenticated = await tryItOut(page, { userId: ZHANGSAN, provider: 'wechatwork' })
  await screenshotResponse(page, 'swagger-ui-401.png')
  t.equal(unauthenticated.status, 401)
  t.equal(unauthenticated.authorization, undefined, 'after Logout no key is sent')
  t.equal(unauthenticated.rendered.status, '401', 'Swagger UI shows the 401')
  t.match(JSON.parse(unauthenticated.rendered.body), { statusCode: 401, code: 'UNAUTHENTICATED' })

  t.same(browser.failedRequests, [])
  t.same(browser.consoleErrors.filter((message) => !EXPECTED_HTTP_ERRORS.test(message)), [], 'no other console error along the way')
  t.equal(service.upstreamCalls(), 1, 'only the authorized, valid call reached Authing')
  t.comment(`more screenshots: ${artifactPath('swagger-ui-400.png')}, ${artifactPath('swagger-ui-401.png')}`)
})
