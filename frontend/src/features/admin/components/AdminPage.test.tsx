import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { http, HttpResponse } from 'msw'
import { beforeEach, describe, expect, it } from 'vitest'

import { renderPage } from '@/test/render'
import { server } from '@/test/server'
import { useOperatorStore } from '@/stores/useAuthStore'
import { AdminPage } from './AdminPage'

const plugin = {
  name: 'local-persona',
  world: 'chat-persona',
  slots: ['chat-persona'],
  version: '0.3.0',
  contract: 'ava:plugin@1.0.0',
  description: 'Offline persona replies',
  sha256: 'ab'.repeat(32),
  path: '/srv/plugins/local-persona.wasm',
  allow_hosts: [],
  config_keys: ['greeting'],
  secrets: [],
  limits: 'fuel 1e9, 64 MiB, 10 s',
  job_kinds: [],
  stats: {
    calls: 42,
    errors: 1,
    traps: 2,
    timeouts: 0,
    limit_hits: 0,
    p50_ms: 1.25,
    p99_ms: 30,
    kv: { keys: 3, bytes: 3_145_746, max_keys: 50, max_bytes: 4_194_304, refusals: 2 },
  },
}

const overview = {
  generation: 3,
  loaded_at: 1_700_000_000_000,
  plugins: [plugin],
  disabled: [{ name: 'replicate', path: '/srv/plugins/replicate.wasm' }],
  last_refused_reload: {
    at: 1_700_000_100_000,
    error: 'plugin "stripe": missing secret STRIPE_API_KEY',
  },
  last_reload_error: null,
}

const deadJob = {
  id: 'job-9',
  kind: 'photo.generate',
  attempts: 5,
  reason: 'replicate answered 500',
  enqueued_at: 1_700_000_000_000,
  died_at: 1_700_000_050_000,
}

function serveAdmin(token = 'op-secret') {
  const seen: string[] = []
  const guard = (request: Request) => {
    seen.push(request.headers.get('authorization') ?? '')
    return request.headers.get('authorization') === `Bearer ${token}`
  }
  let dead = [deadJob]
  server.use(
    http.get('*/admin/plugins', ({ request }) =>
      guard(request)
        ? HttpResponse.json(overview)
        : HttpResponse.json({ detail: 'Operator token required' }, { status: 401 }),
    ),
    http.get('*/admin/jobs/dead', ({ request }) =>
      guard(request) ? HttpResponse.json({ jobs: dead }) : new HttpResponse(null, { status: 401 }),
    ),
    http.post('*/admin/jobs/job-9/retry', ({ request }) => {
      if (!guard(request)) return new HttpResponse(null, { status: 401 })
      dead = []
      return new HttpResponse(null, { status: 204 })
    }),
  )
  return seen
}

beforeEach(() => useOperatorStore.getState().setToken(null))

describe('AdminPage', () => {
  it('says so when the token is wrong', async () => {
    serveAdmin()
    renderPage(<AdminPage />, { path: '/admin' })
    await userEvent.type(screen.getByLabelText('Operator token'), 'guess')
    await userEvent.click(screen.getByRole('button', { name: 'Open dashboard' }))
    expect(
      await screen.findByText('That is not the operator token of this host.'),
    ).toBeInTheDocument()
    expect(useOperatorStore.getState().token).toBeNull()
  })

  it('says the dashboard is off when the host has no operator token', async () => {
    server.use(
      http.get('*/admin/plugins', () =>
        HttpResponse.json({ detail: 'Not found' }, { status: 404 }),
      ),
    )
    renderPage(<AdminPage />, { path: '/admin' })
    await userEvent.type(screen.getByLabelText('Operator token'), 'anything')
    await userEvent.click(screen.getByRole('button', { name: 'Open dashboard' }))
    expect(await screen.findByText(/start it with AVA_OPERATOR_TOKEN set/)).toBeInTheDocument()
  })

  it('shows the plugins per slot with their figures, the refused reload and the dead jobs', async () => {
    const seen = serveAdmin()
    renderPage(<AdminPage />, { path: '/admin' })
    await userEvent.type(screen.getByLabelText('Operator token'), 'op-secret')
    await userEvent.click(screen.getByRole('button', { name: 'Open dashboard' }))

    const slot = await screen.findByRole('region', { name: 'Slot chat-persona' })
    const card = within(slot).getByRole('article', { name: 'local-persona' })
    expect(within(card).getByText('0.3.0')).toBeInTheDocument()
    expect(within(card).getByText('ava:plugin@1.0.0')).toBeInTheDocument()
    expect(within(card).getByText('42')).toBeInTheDocument()
    expect(within(card).getByText('1.3 ms')).toBeInTheDocument()
    expect(within(card).getByText('30 ms')).toBeInTheDocument()
    expect(within(card).getByText('Running, with failures')).toBeInTheDocument()
    expect(
      within(card).getByText(
        'Key-value store: 3 of 50 keys, 3.0 MiB of 4.0 MiB (2 writes refused at the quota)',
      ),
    ).toBeInTheDocument()
    expect(screen.getByText('plugin "stripe": missing secret STRIPE_API_KEY')).toBeInTheDocument()
    expect(screen.getByText('replicate')).toBeInTheDocument()
    expect(await screen.findByText('replicate answered 500')).toBeInTheDocument()
    // The operator token, never a user's session, goes to the admin routes.
    expect(seen.every((h) => h === 'Bearer op-secret' || h === 'Bearer guess')).toBe(true)

    await userEvent.click(screen.getByRole('button', { name: 'Retry job job-9' }))
    expect(await screen.findByText(/No dead jobs/)).toBeInTheDocument()
  })

  it('shows why a reload was refused', async () => {
    serveAdmin()
    useOperatorStore.getState().setToken('op-secret')
    server.use(
      http.post('*/admin/plugins/reload', () =>
        HttpResponse.json({ detail: 'ava.toml: unknown plugin "strpe"' }, { status: 422 }),
      ),
    )
    renderPage(<AdminPage />, { path: '/admin' })
    await userEvent.click(await screen.findByRole('button', { name: 'Reload config' }))
    expect(
      await screen.findByText(
        /The reload was refused, the previous set keeps running: ava.toml: unknown plugin "strpe"/,
      ),
    ).toBeInTheDocument()
  })

  it('asks for the token again when the host stops accepting it', async () => {
    serveAdmin('rotated')
    useOperatorStore.getState().setToken('op-secret')
    renderPage(<AdminPage />, { path: '/admin' })
    expect(await screen.findByLabelText('Operator token')).toBeInTheDocument()
    await waitFor(() => expect(useOperatorStore.getState().token).toBeNull())
  })
})
