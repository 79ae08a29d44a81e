// One real `ava serve` for the browser tests: the embedded default (SQLite, in-process
// queue, offline plugins) in a fresh data folder, serving the built SPA, with an operator
// token and a config file the test may edit (to swap a plugin while Ava runs).
import { spawn } from 'node:child_process'
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

export const OPERATOR_TOKEN = 'e2e-operator-token'

function freePort() {
  return new Promise((done, fail) => {
    const probe = createServer()
    probe.once('error', fail)
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address()
      probe.close(() => done(port))
    })
  })
}

/** The config: ava.toml's embedded default with absolute plugin paths, plus a second persona. */
export function configText(root, { persona, openaiBase }) {
  const plugin = (name) => JSON.stringify(resolve(root, 'dist/plugins', `${name}.wasm`))
  return `[plugins.persona]
use = "${persona}"
[plugins.images]
use = "local-images"
[plugins.billing]
use = "dev-billing"
[plugins.jobs]
use = ["photo-job"]

[plugin.local-persona]
path = ${plugin('local-persona')}
limits = { memory_mib = 32, timeout_ms = 5000, concurrency = 64 }

[plugin.openai-persona]
path = ${plugin('openai-persona')}
allow_hosts = ["${openaiBase}"]
limits = { memory_mib = 64, timeout_ms = 20000 }
config = { base_url = "${openaiBase}/v1", model = "e2e-model", api_key = { generate = true } }

[plugin.local-images]
path = ${plugin('local-images')}
limits = { memory_mib = 128, timeout_ms = 20000, concurrency = 8 }

[plugin.photo-job]
path = ${plugin('photo-job')}
limits = { memory_mib = 64, timeout_ms = 60000, concurrency = 16 }

[plugin.dev-billing]
path = ${plugin('dev-billing')}
allow_hosts = ["self"]
config = { webhook_secret = { generate = true } }
`
}

export async function startHost({ root, bin, webDir, openaiBase, artifacts }) {
  if (!existsSync(bin))
    throw new Error(`no ava binary at ${bin} (cargo build -p ava-host --bin ava)`)
  const dir = mkdtempSync(join(tmpdir(), 'ava-e2e-'))
  const dataDir = join(dir, 'data')
  mkdirSync(dataDir)
  const configPath = join(dir, 'ava.toml')
  writeFileSync(configPath, configText(root, { persona: 'local-persona', openaiBase }))
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const log = createWriteStream(join(artifacts, 'host.log'))
  const child = spawn(bin, ['serve'], {
    cwd: root,
    env: {
      ...process.env,
      AVA_ADDR: `127.0.0.1:${port}`,
      AVA_DATA_DIR: dataDir,
      AVA_CONFIG: configPath,
      AVA_WEB_DIR: webDir,
      AVA_PUBLIC_URL: url,
      AVA_OPERATOR_TOKEN: OPERATOR_TOKEN,
      AVA_LOG: process.env.AVA_LOG ?? 'info',
      NO_COLOR: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout.pipe(log)
  child.stderr.pipe(log)
  let exited = null
  child.once('exit', (code, signal) => (exited = { code, signal }))
  const deadline = Date.now() + 120_000
  for (;;) {
    if (exited)
      throw new Error(
        `ava serve exited (${JSON.stringify(exited)}); see ${join(artifacts, 'host.log')}`,
      )
    try {
      const res = await fetch(`${url}/health/ready`)
      if (res.ok) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('ava serve did not become ready in 120 s')
    await new Promise((r) => setTimeout(r, 200))
  }
  return {
    url,
    configPath,
    /** Rewrites the config with another persona plugin; Ava reloads it while running. */
    usePersona(persona) {
      writeFileSync(configPath, configText(root, { persona, openaiBase }))
    },
    async stop() {
      if (exited) return
      child.kill('SIGTERM')
      await new Promise((r) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL')
          r()
        }, 10_000)
        child.once('exit', () => {
          clearTimeout(timer)
          r()
        })
      })
    },
  }
}
