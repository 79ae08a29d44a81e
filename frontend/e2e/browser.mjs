// How every browser test starts Chromium: Debian's package, never a downloaded browser, with
// the flags this sandbox needs (no background connections: the network is closed).
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export function launchOptions() {
  return {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
      `--user-data-dir=${mkdtempSync(join(tmpdir(), 'ava-chromium-'))}`,
    ],
  }
}
