// Named steps with a screenshot each (e2e/artifacts, git-ignored), and plain checks.
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'

export class CheckFailed extends Error {}

export function check(ok, what) {
  if (!ok) throw new CheckFailed(`expected: ${what}`)
}

export function steps(page, dir) {
  mkdirSync(dir, { recursive: true })
  let n = 0
  return async (name, body) => {
    n += 1
    const file = join(dir, `${String(n).padStart(2, '0')}-${name}.png`)
    const started = Date.now()
    try {
      await body()
    } catch (error) {
      await page
        .screenshot({ path: file.replace(/\.png$/, '-FAILED.png'), fullPage: true })
        .catch(() => {})
      error.message = `step "${name}" failed at ${page.url()}: ${error.message}`
      throw error
    }
    await page.screenshot({ path: file, fullPage: false })
    console.log(`  ok ${name} (${Date.now() - started} ms)`)
  }
}
