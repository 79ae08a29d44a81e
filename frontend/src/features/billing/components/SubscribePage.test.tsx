import { screen, waitFor } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { http, HttpResponse } from 'msw'
import { beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest'

import { renderPage, signIn, testUser } from '@/test/render'
import { server } from '@/test/server'
import { SubscribePage } from './SubscribePage'

const inactive = {
  status: 'none',
  active: false,
  current_period_end: null,
  cancel_at_period_end: false,
  can_manage: false,
}

/** Replaces `window.location.assign` (jsdom cannot navigate away) for one test. */
function stubAssign() {
  const original = Object.getOwnPropertyDescriptor(window, 'location')!
  const assign = vi.fn()
  Object.defineProperty(window, 'location', {
    configurable: true,
    value: { ...window.location, assign },
  })
  onTestFinished(() => {
    Object.defineProperty(window, 'location', original)
  })
  return assign
}

function renderSubscribe(url = '/subscribe') {
  return renderPage(<SubscribePage />, {
    path: '/subscribe',
    url,
    routes: [{ path: '/chat', element: <p>Chat page</p> }],
  })
}

beforeEach(() => {
  signIn()
  server.use(http.get('*/billing/status', () => HttpResponse.json(inactive)))
})

describe('SubscribePage', () => {
  it('shows the seed card and the signed-in email', async () => {
    renderSubscribe()
    expect(screen.getByRole('heading', { name: 'Unlock Ava' })).toBeInTheDocument()
    expect(
      screen.getByText('Subscribe to start chatting and receiving photos.'),
    ).toBeInTheDocument()
    expect(screen.getByText('Monthly subscription')).toBeInTheDocument()
    expect(screen.getByText('All persona styles included')).toBeInTheDocument()
    expect(screen.getByText('Secure payment via Stripe. Cancel anytime.')).toBeInTheDocument()
    expect(screen.getByText(testUser.email)).toBeInTheDocument()
    expect(screen.getByRole('link', { name: 'Back to chat' })).toHaveAttribute('href', '/chat')
    expect(await screen.findByRole('button', { name: 'Subscribe now' })).toBeEnabled()
  })

  it('says "Redirecting to checkout..." and goes to the checkout url', async () => {
    const assign = stubAssign()
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    server.use(
      http.post('*/billing/checkout', async () => {
        await held
        return HttpResponse.json({ checkout_url: 'https://pay.example/cs_123' })
      }),
    )
    const user = userEvent.setup()
    renderSubscribe()
    await user.click(await screen.findByRole('button', { name: 'Subscribe now' }))
    expect(await screen.findByRole('button', { name: 'Redirecting to checkout...' })).toBeDisabled()
    expect(assign).not.toHaveBeenCalled()
    release()
    await waitFor(() => expect(assign).toHaveBeenCalledWith('https://pay.example/cs_123'))
    expect(screen.getByRole('button', { name: 'Redirecting to checkout...' })).toBeDisabled()
  })

  it('sends an Idempotency-Key and reuses it when retrying after an error', async () => {
    const assign = stubAssign()
    const keys: (string | null)[] = []
    server.use(
      http.post('*/billing/checkout', ({ request }) => {
        keys.push(request.headers.get('Idempotency-Key'))
        if (keys.length === 1) {
          return HttpResponse.json(
            { detail: 'The billing provider took too long' },
            { status: 504 },
          )
        }
        return HttpResponse.json({ checkout_url: 'https://pay.example/cs_9' })
      }),
    )
    const user = userEvent.setup()
    renderSubscribe()
    await user.click(await screen.findByRole('button', { name: 'Subscribe now' }))
    expect(await screen.findByRole('alert')).toHaveTextContent('The billing provider took too long')
    await user.click(screen.getByRole('button', { name: 'Subscribe now' }))
    await waitFor(() => expect(assign).toHaveBeenCalledWith('https://pay.example/cs_9'))
    expect(keys).toHaveLength(2)
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/)
    expect(keys[1]).toBe(keys[0])
  })

  it('uses a new Idempotency-Key on a new visit', async () => {
    stubAssign()
    const keys: (string | null)[] = []
    server.use(
      http.post('*/billing/checkout', ({ request }) => {
        keys.push(request.headers.get('Idempotency-Key'))
        return HttpResponse.json({ detail: 'Billing unavailable' }, { status: 503 })
      }),
    )
    const user = userEvent.setup()
    const first = renderSubscribe()
    await user.click(await screen.findByRole('button', { name: 'Subscribe now' }))
    await screen.findByRole('alert')
    first.unmount()
    renderSubscribe()
    await user.click(await screen.findByRole('button', { name: 'Subscribe now' }))
    await waitFor(() => expect(keys).toHaveLength(2))
    expect(keys[1]).not.toBe(keys[0])
  })

  it('says a cancelled checkout made no charge', async () => {
    renderSubscribe('/subscribe?cancelled=1')
    expect(screen.getByText('Checkout cancelled — no charge made.')).toBeInTheDocument()
    expect(await screen.findByRole('button', { name: 'Subscribe now' })).toBeEnabled()
  })

  it('shows the detail of a failed checkout and lets the user try again', async () => {
    server.use(
      http.post('*/billing/checkout', () =>
        HttpResponse.json({ detail: 'The billing provider failed' }, { status: 502 }),
      ),
    )
    const user = userEvent.setup()
    renderSubscribe()
    await user.click(await screen.findByRole('button', { name: 'Subscribe now' }))
    expect(await screen.findByRole('alert')).toHaveTextContent('The billing provider failed')
    expect(screen.getByRole('button', { name: 'Subscribe now' })).toBeEnabled()
  })

  it('says so when already subscribed (409) and links to the chat', async () => {
    server.use(
      http.post('*/billing/checkout', () =>
        HttpResponse.json({ detail: 'You already have an active subscription' }, { status: 409 }),
      ),
    )
    const user = userEvent.setup()
    renderSubscribe()
    await user.click(await screen.findByRole('button', { name: 'Subscribe now' }))
    const alert = await screen.findByRole('alert')
    expect(alert).toHaveTextContent('You already have an active subscription')
    await user.click(screen.getByRole('link', { name: 'Go to the chat' }))
    expect(await screen.findByText('Chat page')).toBeInTheDocument()
  })

  it('shows "You\'re subscribed" instead of the button when the status is active', async () => {
    server.use(
      http.get('*/billing/status', () =>
        HttpResponse.json({ ...inactive, status: 'active', active: true, can_manage: true }),
      ),
    )
    renderSubscribe()
    expect(await screen.findByText("You're subscribed")).toBeInTheDocument()
    expect(screen.getByRole('link', { name: 'Go to the chat' })).toHaveAttribute('href', '/chat')
    expect(screen.queryByRole('button', { name: 'Subscribe now' })).not.toBeInTheDocument()
  })

  it('still offers the button when the status cannot be read, with the reason', async () => {
    server.use(
      http.get('*/billing/status', () =>
        HttpResponse.json({ detail: 'Ava is restarting' }, { status: 503 }),
      ),
    )
    renderSubscribe()
    expect(await screen.findByRole('alert')).toHaveTextContent('Ava is restarting')
    expect(screen.getByRole('button', { name: 'Subscribe now' })).toBeEnabled()
  })
})
