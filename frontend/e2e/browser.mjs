// How every browser test starts Chromium: Debian's package, never a downloaded browser, with
// the flags this sandbox needs (no background connections: the network is closed).
// Playwright gives each launch a new empty profile of its own.
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
    ],
  }
}
