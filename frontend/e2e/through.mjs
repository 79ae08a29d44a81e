// The paid journey of e2e/journey.mjs in real Chromium against an Ava someone else started:
// host/tests/topology_nginx.rs runs it through nginx (TLS with the test's own self-signed
// certificate, two `ava serve` replicas, one `ava worker`, PostgreSQL and Redis).
//
//   node e2e/through.mjs https://localhost:8443 [artifacts-dir]
//
// Exits non-zero when a step fails or the app logs a console error or warning (a CSP
// violation among them).
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { chromium } from 'playwright-core'

import { launchOptions } from './browser.mjs'
import { paidJourney } from './journey.mjs'
import { consoleProblems, desktop, newPage, phone } from './pages.mjs'
import { check } from './steps.mjs'

const [base, dir = 'e2e/artifacts/through'] = process.argv.slice(2)
if (!base) throw new Error('usage: node e2e/through.mjs <base url> [artifacts dir]')
const artifacts = resolve(dir)
mkdirSync(artifacts, { recursive: true })

async function main() {
  const browser = await chromium.launch(launchOptions())
  try {
    // The certificate is the test's own, made for this run: trusted by this context only.
    const tls = { ignoreHTTPSErrors: true }
    for (const [label, viewport] of [
      ['desktop', desktop],
      ['phone', phone],
    ]) {
      console.log(`journey through ${base} as ${label}`)
      const { context, page } = await newPage(browser, label, viewport, tls)
      await paidJourney(page, {
        base,
        label,
        shots: join(artifacts, label),
        email: `${label}-${Date.now()}@example.com`,
      })
      await context.close()
    }
    check(
      consoleProblems.length === 0,
      `no console errors or warnings:\n${consoleProblems.join('\n')}`,
    )
    console.log('journey through', base, 'passed')
  } finally {
    await browser.close()
  }
}

main().catch((error) => {
  console.error(error)
  console.error(`screenshots: ${artifacts}`)
  process.exit(1)
})
