// Behind a gateway that serves the service under a path prefix and strips it (PUBLIC_BASE_PATH=/sync-proxy):
// /sync-proxy/docs and /sync-proxy/docs/ both load every asset through the gateway, and the document's
// servers make "Try it out" call /sync-proxy/users/….
import t from 'tap'
import { authorize, browserUnavailable, launchBrowser, publicHostname, screenshotResponse, tryItOut } from '../helpers/browser.ts'
import { AUTH, DEV_KEY, routeUrl, WANGWU, ZHANGSAN } from '../helpers/app.ts'
import { assetUrls, listenTestApp, startGateway } from '../helpers/server.ts'

const PREFIX = '/sync-proxy'

t.test('without a gateway, /docs redirects to docs/ (a relative Location) and /docs/ is the page', async (t) => {
  const service = await listenTestApp(t)
  const bare = await fetch(`${service.baseUrl}/docs`, { redirect: 'manual' })
  t.equal(bare.status, 302)
  t.equal(bare.headers.get('location'), 'docs/', 'relative, so it resolves under whatever prefix the browser used')
  const withQuery = await fetch(`${service.baseUrl}/docs?tab=1`, { redirect: 'manual' })
  t.equal(withQuery.headers.get('location'), 'docs/?tab=1', 'the query string is kept')
  const page = await fetch(`${service.baseUrl}/docs/`)
  t.equal(page.status, 200)
  t.match(page.headers.get('content-type'), /^text\/html/)
  const document = await (await fetch(`${service.baseUrl}/docs/json`)).json() as { servers: Array<{ url: string }> }
  t.same(document.servers.map((server) => server.url), ['/'], 'served at the root, the document points at the root')
})

t.test(`behind a gateway with PUBLIC_BASE_PATH=${PREFIX}`, async (t) => {
  const service = await listenTestApp(t, { PUBLIC_BASE_PATH: PREFIX })
  const gateway = await startGateway(t, PREFIX, service)

  for (const entry of [`${PREFIX}/docs`, `${PREFIX}/docs/`]) {
    t.test(`${entry} loads the page and every asset it references through the gateway`, async (t) => {
      const page = await fetch(`${gateway.baseUrl}${entry}`)
      t.equal(page.status, 200)
      t.equal(page.url, `${gateway.baseUrl}${PREFIX}/docs/`, 'the page ends up under the prefix')
      const assets = assetUrls(await page.text(), page.url)
      t.ok(assets.length >= 5, 'stylesheets, icons and scripts are referenced')
      for (const asset of assets) {
        t.ok(asset.startsWith(`${gateway.baseUrl}${PREFIX}/docs/static/`), `${asset} is under the prefix`)
        const response = await fetch(asset)
        t.equal(response.status, 200, `${new URL(asset).pathname} loads`)
        await response.arrayBuffer()
      }
      // swagger-initializer.js loads the document from './json', relative to the page.
      const documentUrl = new URL('json', page.url).href
      t.equal(documentUrl, `${gateway.baseUrl}${PREFIX}/docs/json`)
      const document = await (await fetch(documentUrl)).json() as { servers: Array<{ url: string }> }
      t.same(document.servers.map((server) => server.url), [PREFIX], 'Try it out will call the prefixed routes')
    })
  }

  t.test('the prefixed route works through the gateway', async (t) => {
    const response = await fetch(`${gateway.baseUrl}${PREFIX}${routeUrl(WANGWU, 'scim')}`, { method: 'DELETE', headers: AUTH })
    t.equal(response.status, 200)
    t.ok(gateway.forwarded.includes(routeUrl(WANGWU, 'scim')), 'the service saw the path without the prefix')
  })
})

t.test(`Swagger UI in Chromium behind the gateway: ${PREFIX}/docs loads, and Try it out calls ${PREFIX}/users/…`, { skip: browserUnavailable() ?? false }, async (t) => {
  const service = await listenTestApp(t, { PUBLIC_BASE_PATH: PREFIX })
  const gateway = await startGateway(t, PREFIX, service)
  const host = publicHostname()
  const origin = `http://${host}:${gateway.port}`
  const browser = await launchBrowser(t, host)
  const { page } = browser
  const statuses: Array<{ url: string, status: number }> = []
  page.on('response', (response) => { statuses.push({ url: response.url(), status: response.status() }) })

  await page.goto(`${origin}${PREFIX}/docs`)
  await page.locator('.opblock-delete').waitFor()
  t.equal(page.url(), `${origin}${PREFIX}/docs/`)
  t.same(browser.failedRequests, [], 'nothing failed to load')
  t.same(browser.consoleErrors, [], 'no script error, no CSP violation')
  t.same(statuses.filter(({ status }) => status >= 400), [], 'no asset answered an error')
  t.same(browser.requested.filter((url) => !url.startsWith(`${origin}${PREFIX}/`) && !url.startsWith('data:')), [], 'every request went through the prefix')
  t.equal(await page.locator('.servers select').inputValue(), PREFIX, 'the server Swagger UI offers is the prefix')

  await authorize(page, DEV_KEY)
  const removed = await tryItOut(page, { userId: ZHANGSAN, provider: 'dingtalk' })
  const screenshot = await screenshotResponse(page, 'swagger-ui-gateway.png')
  t.equal(removed.url, `${origin}${PREFIX}/users/${ZHANGSAN}/sync-relations/dingtalk?userIdType=user_id`, 'Try it out calls the prefixed route')
  t.equal(removed.status, 200)
  t.equal(removed.rendered.status, '200')
  t.match(JSON.parse(removed.rendered.body), { data: { success: true } })
  t.ok(gateway.forwarded.includes(`/users/${ZHANGSAN}/sync-relations/dingtalk?userIdType=user_id`), 'and the gateway forwarded it to the service')
  t.comment(`screenshot: ${screenshot}`)
})
