// The AK/SK signature must match the official Node SDK byte for byte (authing-contract.md §1a). The
// expected strings and authorization values below were produced by the SDK itself (§1d and
// ../shared/authing-capture.json), so they pin the algorithm rather than this implementation of it.
import { readFileSync } from 'node:fs'
import t from 'tap'
import { buildAuthorization, buildStringToSign } from 'authing-node-sdk/dist/utils/buildSignature.js'
import {
  authorizationValue,
  canonicalHeaders,
  canonicalResource,
  computeSignature,
  isSignedHeader,
  newNonce,
  parseAuthorization,
  signedHeaders,
  stringToSign
} from '../../src/authing/signature.ts'

const PATH = '/api/v3/delete-user-sync-relations'
const FIXED_DATE = 'Wed, 01 Jan 2025 00:00:00 GMT'
const FIXED_NONCE = '0123456789abcdef0123456789abcdef'

interface Capture {
  label: string
  method: string
  url: string
  rawHeaders: string[]
  body: string
  stringToSign: string
}

const captureFile = new URL('../fixtures/authing-capture.json', import.meta.url)
const captures = (JSON.parse(readFileSync(captureFile, 'utf8')) as { captures: Capture[] }).captures

/** The headers of a capture as the SDK held them when signing: wire names as sent, last value wins. */
function headersOf (rawHeaders: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {}
  for (let i = 0; i < rawHeaders.length; i += 2) headers[rawHeaders[i] as string] = rawHeaders[i + 1] as string
  return headers
}

function fixedInput (body: Record<string, unknown>, extra: { tenantId?: string, lang?: string } = {}): Parameters<typeof signedHeaders>[0] {
  return {
    accessKeyId: 'AK',
    accessKeySecret: 'SK',
    method: 'POST',
    path: PATH,
    body,
    lang: extra.lang ?? 'zh-CN',
    tenantId: extra.tenantId,
    date: new Date(FIXED_DATE),
    nonce: FIXED_NONCE
  }
}

t.test('the fixed vectors of contract §1d', async (t) => {
  const body = { provider: 'lark', userId: 'u1', userIdType: 'user_id' }

  t.test('reproduces the string-to-sign line by line, with no trailing newline', async (t) => {
    const headers = signedHeaders(fixedInput(body))
    const expected = [
      'POST',
      `date:${FIXED_DATE}`,
      'x-authing-lang:zh-CN',
      'x-authing-sdk-version:authing-node-sdk:4.0.1',
      'x-authing-signature-method:HMAC-SHA1',
      `x-authing-signature-nonce:${FIXED_NONCE}`,
      'x-authing-signature-version:1.0',
      `${PATH}?provider=lark&userId=u1&userIdType=user_id`
    ].join('\n')
    t.equal(stringToSign('POST', headers, PATH, body), expected)
  })

  t.test('signs the default body as authing AK:1C10doWhlBLxjKF/jfj+zNQBvI0=', async (t) => {
    t.equal(signedHeaders(fixedInput(body)).authorization, 'authing AK:1C10doWhlBLxjKF/jfj+zNQBvI0=')
  })

  t.test('gives the same signature whatever the body key order', async (t) => {
    const reordered = { userIdType: 'user_id', userId: 'u1', provider: 'lark' }
    t.equal(signedHeaders(fixedInput(reordered)).authorization, 'authing AK:1C10doWhlBLxjKF/jfj+zNQBvI0=')
  })

  t.test('skips an undefined userIdType: authing AK:rNS4JDI3vVk2s+YfLk2OO0jo4tk=', async (t) => {
    const withUndefined = { provider: 'lark', userId: 'u1', userIdType: undefined }
    const headers = signedHeaders(fixedInput(withUndefined))
    t.ok(stringToSign('POST', headers, PATH, withUndefined).endsWith(`\n${PATH}?provider=lark&userId=u1`))
    t.equal(headers.authorization, 'authing AK:rNS4JDI3vVk2s+YfLk2OO0jo4tk=')
  })

  t.test('signs a sync_relation id with a colon raw: authing AK:raH3Q0h0LVIMB8oJW5So9Sh1U00=', async (t) => {
    const syncRelation = { provider: 'lark', userId: 'lark:ou_8bae', userIdType: 'sync_relation' }
    const headers = signedHeaders(fixedInput(syncRelation))
    t.ok(stringToSign('POST', headers, PATH, syncRelation).endsWith(`\n${PATH}?provider=lark&userId=lark:ou_8bae&userIdType=sync_relation`))
    t.equal(headers.authorization, 'authing AK:raH3Q0h0LVIMB8oJW5So9Sh1U00=')
  })
})

t.test('every request captured from the official SDK (authing-capture.json)', async (t) => {
  t.ok(captures.length >= 5, 'the capture file holds the five recorded requests')
  for (const capture of captures) {
    t.test(capture.label, async (t) => {
      const wire = headersOf(capture.rawHeaders)
      const body = JSON.parse(capture.body) as Record<string, unknown>
      const sts = stringToSign(capture.method, wire, capture.url, body)
      t.equal(sts, capture.stringToSign, 'the string-to-sign from the wire headers equals the recorded one')
      t.equal(authorizationValue('AK', computeSignature('SK', sts)), wire.authorization, 'and its signature equals the one the SDK sent')

      const ours = signedHeaders({
        accessKeyId: 'AK',
        accessKeySecret: 'SK',
        method: 'POST',
        path: capture.url,
        body,
        lang: wire['x-authing-lang'] as string,
        tenantId: wire['x-authing-app-id'],
        date: new Date(wire.date as string),
        nonce: wire['x-authing-signature-nonce'] as string
      })
      t.equal(ours.authorization, wire.authorization, 'signedHeaders rebuilds the same authorization header')
      for (const [name, value] of Object.entries(ours)) {
        t.equal(value, wire[name], `header ${name} is identical to the SDK's`)
      }
      const signedOnWire = Object.keys(wire).filter((name) => name === 'date' || name.startsWith('x-authing-')).sort()
      t.same(Object.keys(ours).filter(isSignedHeader).sort(), signedOnWire, 'the same set of signed headers')
    })
  }
})

t.test('the tenant header x-authing-app-id', async (t) => {
  t.test('sorts between date and x-authing-lang in the string-to-sign', async (t) => {
    const body = { provider: 'lark', userId: 'u1', userIdType: 'user_id' }
    const headers = signedHeaders(fixedInput(body, { tenantId: 'T1', lang: 'en-US' }))
    const lines = stringToSign('POST', headers, PATH, body).split('\n')
    t.same(lines.slice(0, 4), ['POST', `date:${FIXED_DATE}`, 'x-authing-app-id:T1', 'x-authing-lang:en-US'])
  })

  t.test('is left out when no tenant is configured', async (t) => {
    t.notOk('x-authing-app-id' in signedHeaders(fixedInput({})))
    t.notOk('x-authing-app-id' in signedHeaders(fixedInput({}, { tenantId: '' })))
  })
})

t.test('canonicalResource', async (t) => {
  t.test('sorts keys by UTF-16 code units: uppercase first, userId before userIdType', async (t) => {
    t.equal(canonicalResource('/p', { userIdType: 't', b: '2', userId: 'u', B: '3', a: '1' }), '/p?B=3&a=1&b=2&userId=u&userIdType=t')
  })

  t.test('returns the bare path for an empty body', async (t) => {
    t.equal(canonicalResource(PATH, {}), PATH)
  })

  t.test('keeps the ? when every value is undefined (SDK quirk)', async (t) => {
    t.equal(canonicalResource(PATH, { provider: undefined, userId: undefined }), `${PATH}?`)
  })

  t.test('URL-encodes nothing: spaces, &, =, :, /, + and UTF-8 appear raw', async (t) => {
    t.equal(
      canonicalResource('/p', { userId: 'a b&c=d:e/f+g 张三 😀', provider: 'lark' }),
      '/p?provider=lark&userId=a b&c=d:e/f+g 张三 😀'
    )
  })

  t.test('renders objects and arrays as JSON with their own key order, null as null, scalars as strings', async (t) => {
    t.equal(
      canonicalResource('/p', { o: { z: 1, a: [1, 'x'] }, n: null, f: false, i: 42, l: [true] }),
      '/p?f=false&i=42&l=[true]&n=null&o={"z":1,"a":[1,"x"]}'
    )
  })
})

t.test('canonicalHeaders', async (t) => {
  t.test('signs only date and x-authing-* headers, by exact lowercase name', async (t) => {
    const headers = {
      accept: 'application/json',
      'content-type': 'application/json',
      'user-agent': 'ua',
      authorization: 'authing AK:x',
      'x-authing-lang': 'zh-CN',
      date: FIXED_DATE,
      'X-Authing-Upper': 'not signed: the key is case-sensitive',
      Date: 'not signed either',
      'x-authingless': 'no hyphen after authing'
    }
    t.equal(canonicalHeaders(headers), `date:${FIXED_DATE}\nx-authing-lang:zh-CN\n`)
  })

  t.test('sorts header names with plain string sort', async (t) => {
    const headers = { 'x-authing-b': '2', 'x-authing-a': '1', date: 'd', 'x-authing-app-id': 'T' }
    t.equal(canonicalHeaders(headers), 'date:d\nx-authing-a:1\nx-authing-app-id:T\nx-authing-b:2\n')
  })

  t.test('turns tab, LF, CR and FF into spaces, then trims', async (t) => {
    t.equal(canonicalHeaders({ 'x-authing-v': '\t a\tb\nc\rd\fe \n' }), 'x-authing-v:a b c d e\n')
    t.equal(canonicalHeaders({ 'x-authing-v': 'a\r\nb' }), 'x-authing-v:a  b\n', 'each character becomes its own space')
  })

  t.test('is empty when nothing is signed', async (t) => {
    t.equal(canonicalHeaders({ accept: 'application/json' }), '')
  })
})

t.test('stringToSign', async (t) => {
  t.test('uses the method exactly as given (the SDK does not upper-case it)', async (t) => {
    t.ok(stringToSign('post', {}, '/p', {}).startsWith('post\n'))
    t.equal(stringToSign('POST', {}, '/p', {}), 'POST\n/p')
  })

  t.test('agrees with the SDK\'s own buildStringToSign on awkward inputs', async (t) => {
    const cases: Array<{ headers: Record<string, string>, body: Record<string, unknown> }> = [
      { headers: { date: FIXED_DATE, 'x-authing-lang': ' en-US\t' }, body: { userId: '张三 & 李四=ok', provider: 'lark', userIdType: 'username' } },
      { headers: { 'x-authing-z': 'z', 'x-authing-A': 'A', 'content-type': 'x' }, body: { a: undefined } },
      { headers: {}, body: {} },
      { headers: { 'x-authing-n': '\f\n' }, body: { nested: { b: [1, { c: null }], a: 'x' }, n: null, num: 1.5, t: true } }
    ]
    for (const { headers, body } of cases) {
      t.equal(stringToSign('POST', headers, PATH, body), buildStringToSign('POST', PATH, headers, body))
    }
  })
})

t.test('computeSignature', async (t) => {
  t.test('is Base64 of HMAC-SHA1 (RFC 2202 test case 2)', async (t) => {
    const expected = Buffer.from('effcdf6ae5eb2fa2d27416d5f184df9c259a7c79', 'hex').toString('base64')
    t.equal(computeSignature('Jefe', 'what do ya want for nothing?'), expected)
  })

  t.test('treats secret and text as UTF-8, like the SDK', async (t) => {
    const text = 'POST\n/p?userId=张三'
    t.equal(authorizationValue('AK', computeSignature('密钥', text)), buildAuthorization('AK', '密钥', text))
  })
})

t.test('authorization header', async (t) => {
  t.test('is the lowercase word authing, one space, AK, colon, signature', async (t) => {
    t.equal(authorizationValue('AK', 'c2ln'), 'authing AK:c2ln')
  })

  t.test('parses back into key id and signature, and refuses other shapes', async (t) => {
    t.same(parseAuthorization('authing AK:1C10doWhlBLxjKF/jfj+zNQBvI0='), { accessKeyId: 'AK', signature: '1C10doWhlBLxjKF/jfj+zNQBvI0=' })
    for (const bad of ['Authing AK:x', 'authing AK', 'authing :x', 'authing AK:', 'Bearer token', 'authing  AK:x', 'authing AK:x y']) {
      t.equal(parseAuthorization(bad), undefined, JSON.stringify(bad))
    }
  })
})

t.test('signedHeaders', async (t) => {
  t.test('sends the date in RFC 1123 form (Date.toUTCString)', async (t) => {
    t.equal(signedHeaders(fixedInput({})).date, FIXED_DATE)
  })

  t.test('never adds x-authing-userpool-id or x-authing-request-from in signature mode', async (t) => {
    const headers = signedHeaders(fixedInput({ provider: 'lark' }, { tenantId: 'T1' }))
    t.notOk('x-authing-userpool-id' in headers)
    t.notOk('x-authing-request-from' in headers)
  })

  t.test('changes the signature when any signed input changes', async (t) => {
    const base = signedHeaders(fixedInput({ provider: 'lark', userId: 'u1' })).authorization
    t.not(signedHeaders({ ...fixedInput({ provider: 'lark', userId: 'u2' }) }).authorization, base, 'body value')
    t.not(signedHeaders({ ...fixedInput({ provider: 'lark', userId: 'u1' }), nonce: 'f'.repeat(32) }).authorization, base, 'nonce')
    t.not(signedHeaders({ ...fixedInput({ provider: 'lark', userId: 'u1' }), date: new Date(Date.parse(FIXED_DATE) + 1000) }).authorization, base, 'date')
    t.not(signedHeaders({ ...fixedInput({ provider: 'lark', userId: 'u1' }), accessKeySecret: 'SK2' }).authorization, base, 'secret')
    t.not(signedHeaders(fixedInput({ provider: 'lark', userId: 'u1' }, { lang: 'en-US' })).authorization, base, 'lang')
  })
})

t.test('newNonce', async (t) => {
  t.test('is 32 lowercase hex characters and new on every call', async (t) => {
    const nonces = Array.from({ length: 100 }, () => newNonce())
    for (const nonce of nonces) t.match(nonce, /^[0-9a-f]{32}$/)
    t.equal(new Set(nonces).size, nonces.length)
  })
})
