import { act, screen, waitFor } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { http, HttpResponse } from 'msw'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { renderPage, signIn } from '@/test/render'
import { server } from '@/test/server'
import { CheckoutReturn, GIVE_UP_MS, POLL_MS } from './CheckoutReturn'

const inactive = {
  status: 'incomplete',
  active: false,
  current_period_end: null,
  cancel_at_period_end: false,
  can_manage: true,
}
const active = {
  ...inactive,
  status: 'active',
  active: true,
  current_period_end: 1_800_000_000_000,
}

const returnUrl = '/chat?checkout=success&session_id=cs_test_42'

/** Answers the given statuses in turn, then the last one forever; counts the calls. */
function statuses(...answers: (object | number)[]) {
  const calls = { count: 0 }
  server.use(
    http.get('*/billing/status', () => {
      const answer = answers[Math.min(calls.count, answers.length - 1)]!
      calls.count += 1
      return typeof answer === 'number'
        ? HttpResponse.json({ detail: 'The server failed; try again.' }, { status: answer })
        : HttpResponse.json(answer)
    }),
  )
  return calls
}

function renderReturn(url = returnUrl) {
  return renderPage(
    <>
      <CheckoutReturn />
      <p>Chat page</p>
    </>,
    { path: '/chat', url },
  )
}

const tick = (ms: number) => act(() => vi.advanceTimersByTimeAsync(ms))

beforeEach(() => {
  signIn()
  vi.useFakeTimers({ shouldAdvanceTime: true })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('CheckoutReturn', () => {
  it('renders nothing and asks nothing without checkout=success', () => {
    const calls = statuses(inactive)
    renderReturn('/chat')
    expect(screen.getByText('Chat page')).toBeInTheDocument()
    expect(screen.queryByText(/confirming your payment/i)).not.toBeInTheDocument()
    expect(calls.count).toBe(0)
  })

  it('polls while the payment is being confirmed, then shows the success banner', async () => {
    const calls = statuses(inactive, inactive, active)
    renderReturn()
    expect(screen.getByText('Confirming your payment…')).toBeInTheDocument()
    await waitFor(() => expect(calls.count).toBe(1))
    await tick(POLL_MS)
    await waitFor(() => expect(calls.count).toBe(2))
    expect(screen.getByText('Confirming your payment…')).toBeInTheDocument()
    await tick(POLL_MS)
    expect(await screen.findByText("You're subscribed — enjoy Ava!")).toBeInTheDocument()
    expect(screen.queryByText('Confirming your payment…')).not.toBeInTheDocument()
    // Active: no more polling.
    await tick(POLL_MS * 3)
    expect(calls.count).toBe(3)
  })

  it('dismissing the banner takes checkout and session_id off the URL', async () => {
    statuses(active)
    const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime })
    const { router } = renderReturn('/chat?checkout=success&session_id=cs_1&persona=p1')
    await user.click(await screen.findByRole('button', { name: 'Dismiss' }))
    await waitFor(() => expect(router.state.location.search).toBe('?persona=p1'))
    expect(screen.queryByText(/you're subscribed/i)).not.toBeInTheDocument()
    expect(router.state.historyAction).toBe('REPLACE')
  })

  it('after a minute without activation it stops polling and says what to do', async () => {
    const calls = statuses(inactive)
    renderReturn()
    await waitFor(() => expect(calls.count).toBe(1))
    await tick(GIVE_UP_MS + 100)
    expect(
      await screen.findByText(/Your payment is taking longer than usual to confirm/),
    ).toBeInTheDocument()
    expect(screen.getByText('cs_test_42')).toBeInTheDocument()
    const polled = calls.count
    expect(polled).toBeGreaterThan(30)
    await tick(POLL_MS * 5)
    expect(calls.count).toBe(polled)
  })

  it('"Check again" after the minute asks once more and shows the success', async () => {
    const calls = statuses(inactive)
    const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime })
    renderReturn()
    await waitFor(() => expect(calls.count).toBe(1))
    await tick(GIVE_UP_MS + 100)
    const again = await screen.findByRole('button', { name: 'Check again' })
    statuses(active)
    await user.click(again)
    expect(await screen.findByText("You're subscribed — enjoy Ava!")).toBeInTheDocument()
  })

  it('shows a failed poll instead of hiding it, and keeps polling', async () => {
    const calls = statuses(500, inactive, active)
    renderReturn()
    expect(await screen.findByRole('alert')).toHaveTextContent('The server failed; try again.')
    expect(screen.getByText('Confirming your payment…')).toBeInTheDocument()
    await tick(POLL_MS)
    await waitFor(() => expect(calls.count).toBe(2))
    await waitFor(() => expect(screen.queryByRole('alert')).not.toBeInTheDocument())
    await tick(POLL_MS)
    expect(await screen.findByText("You're subscribed — enjoy Ava!")).toBeInTheDocument()
  })
})
