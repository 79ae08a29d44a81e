// What every browser test opens its pages with: the instrumentation of instrument.js, a
// 15 s default timeout, and a watch on the console that collects the app's errors and
// warnings (any one fails the run), at the two viewports the journeys use.
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const instrument = readFileSync(
  join(dirname(fileURLToPath(import.meta.url)), 'instrument.js'),
  'utf8',
)

/** Every console error or warning of the app seen so far, with the page and viewport. */
export const consoleProblems = []

/** Chromium logs a failed fetch ("Failed to load resource: ... 402") as a console error by
 * itself; those answers are the API's, expected by the journey (the paywall, a refused
 * token). Everything else the app logs is a failure. */
const browserNetworkLine =
  /^Failed to load resource: the server responded with a status of (401|402|403|404|409|422)\b/

function watchConsole(page, label) {
  page.on('console', (m) => {
    if (m.type() !== 'error' && m.type() !== 'warning') return
    if (browserNetworkLine.test(m.text())) return
    // The dev billing pages are the plugin's, not the SPA's.
    if (new URL(page.url()).pathname.startsWith('/dev/')) return
    consoleProblems.push(`[${label}] console.${m.type()}: ${m.text()} (${page.url()})`)
  })
  page.on('pageerror', (e) =>
    consoleProblems.push(`[${label}] page error: ${e.message} (${page.url()})`),
  )
}

/** A new context (its own storage) and page at `viewport`; `extra` goes to the context. */
export async function newPage(browser, label, viewport, extra = {}) {
  const context = await browser.newContext({ ...viewport, ...extra })
  await context.addInitScript(instrument)
  const page = await context.newPage()
  page.setDefaultTimeout(15_000)
  watchConsole(page, label)
  return { context, page }
}

export const desktop = { viewport: { width: 1280, height: 800 } }
export const phone = {
  viewport: { width: 375, height: 812 },
  isMobile: true,
  hasTouch: true,
  deviceScaleFactor: 2,
}
