// A screenshot of one page, for looking at it while building it:
//   node e2e/shot.mjs URL OUT.png [--width 375] [--height 812] [--token TOKEN --user JSON]
//                     [--wait TEXT] [--full]
// With --token (and --user, the `user` of a login answer) the page opens signed in.
import { chromium } from 'playwright-core'

import { launchOptions } from './browser.mjs'

const [url, out, ...rest] = process.argv.slice(2)
if (!url || !out) {
  console.error(
    'usage: node e2e/shot.mjs URL OUT.png [--width N] [--height N] [--token T --user JSON] [--wait TEXT] [--full]',
  )
  process.exit(2)
}
const flag = (name) => {
  const at = rest.indexOf(`--${name}`)
  return at >= 0 ? rest[at + 1] : undefined
}
const width = Number(flag('width') ?? 1280)
const height = Number(flag('height') ?? (width < 600 ? 812 : 800))
const browser = await chromium.launch(launchOptions())
const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1 })
const token = flag('token')
if (token) {
  const user = JSON.parse(
    flag('user') ?? '{"id":"unknown","email":"","display_name":null,"created_at":0}',
  )
  await context.addInitScript(
    ([t, u]) =>
      localStorage.setItem(
        'ava.session',
        JSON.stringify({ state: { token: t, user: u }, version: 0 }),
      ),
    [token, user],
  )
}
const page = await context.newPage()
page.on('console', (m) => {
  if (m.type() === 'error' || m.type() === 'warning')
    console.error(`console.${m.type()}: ${m.text()}`)
})
page.on('pageerror', (e) => console.error(`pageerror: ${e.message}`))
await page.goto(url, { waitUntil: 'networkidle' })
const wait = flag('wait')
if (wait) await page.getByText(wait).first().waitFor({ timeout: 10_000 })
await page.screenshot({ path: out, fullPage: rest.includes('--full') })
await browser.close()
console.log(`wrote ${out}`)
