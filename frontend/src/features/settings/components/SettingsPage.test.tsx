import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { http, HttpResponse } from 'msw'
import type { ReactNode } from 'react'
import { Navigate } from 'react-router'
import { beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest'

import { useAuthStore } from '@/stores/useAuthStore'
import { renderPage, signIn, testUser } from '@/test/render'
import { server } from '@/test/server'
import { SettingsPage } from './SettingsPage'

const basePrefs = {
  mode: 'secretary',
  active_persona_id: 'p1',
  photos_enabled: false,
  adult_confirmed: false,
  adult_confirmed_at: null,
  updated_at: 1_700_000_000_000,
}
const noSubscription = {
  status: 'none',
  active: false,
  current_period_end: null,
  cancel_at_period_end: false,
  can_manage: false,
}

type Prefs =
  typeof basePrefs | (Omit<typeof basePrefs, 'adult_confirmed_at'> & { adult_confirmed_at: number })

/** The API of the page; `patches` records every PATCH body. */
function api({
  prefs = basePrefs as Prefs,
  billing = noSubscription as object,
  patch,
}: {
  prefs?: Prefs
  billing?: object
  patch?: (body: Record<string, unknown>) => Response | undefined
} = {}) {
  const patches: Record<string, unknown>[] = []
  let current: Prefs = prefs
  server.use(
    http.get('*/auth/me', () =>
      HttpResponse.json({ user: testUser, preferences: current, subscription: billing }),
    ),
    http.get('*/preferences', () => HttpResponse.json(current)),
    http.get('*/billing/status', () => HttpResponse.json(billing)),
    http.patch('*/preferences', async ({ request }) => {
      const body = (await request.json()) as Record<string, unknown>
      patches.push(body)
      const refused = patch?.(body)
      if (refused) return refused
      current = {
        ...current,
        ...(body.mode ? { mode: body.mode as string } : {}),
        ...(body.photos_enabled !== undefined ? { photos_enabled: !!body.photos_enabled } : {}),
        ...(body.confirm_adult === true
          ? { adult_confirmed: true, adult_confirmed_at: 1_700_000_500_000 }
          : {}),
        ...(body.confirm_adult === false
          ? { adult_confirmed: false, adult_confirmed_at: null, mode: 'secretary' }
          : {}),
      } as Prefs
      return HttpResponse.json(current)
    }),
  )
  return { patches }
}

/** As in the app, signed-in pages are gone as soon as the session ends. */
function SignedIn({ children }: { children: ReactNode }) {
  const token = useAuthStore((s) => s.token)
  return token ? children : <Navigate to="/login" replace />
}

function renderSettings(url = '/settings') {
  return renderPage(
    <SignedIn>
      <SettingsPage />
    </SignedIn>,
    {
      path: '/settings',
      url,
      routes: [
        { path: '/login', element: <p>Login page</p> },
        { path: '/subscribe', element: <p>Subscribe page</p> },
      ],
    },
  )
}

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

const formatDate = (ms: number) =>
  new Intl.DateTimeFormat(undefined, { dateStyle: 'long' }).format(new Date(ms))

beforeEach(() => signIn())

describe('SettingsPage: account', () => {
  it('shows the email and display name from /auth/me', async () => {
    api()
    renderSettings()
    const account = screen.getByRole('region', { name: 'Account' })
    expect(await within(account).findByText(testUser.email)).toBeInTheDocument()
    expect(within(account).getByText('Sam')).toBeInTheDocument()
  })

  it('logs out: tells the API, ends the session and goes to the login page', async () => {
    api()
    let called = false
    server.use(
      http.post('*/auth/logout', () => {
        called = true
        return new HttpResponse(null, { status: 204 })
      }),
    )
    const user = userEvent.setup()
    renderSettings()
    await user.click(screen.getByRole('button', { name: 'Log out' }))
    expect(await screen.findByText('Login page')).toBeInTheDocument()
    expect(called).toBe(true)
    expect(useAuthStore.getState().token).toBeNull()
  })

  it('logs out locally even when the API call fails', async () => {
    api()
    server.use(http.post('*/auth/logout', () => HttpResponse.error()))
    const user = userEvent.setup()
    renderSettings()
    await user.click(screen.getByRole('button', { name: 'Log out' }))
    expect(await screen.findByText('Login page')).toBeInTheDocument()
    expect(useAuthStore.getState().token).toBeNull()
  })
})

describe('SettingsPage: the 18+ gate of intimate mode', () => {
  it('choosing intimate opens the confirmation dialog', async () => {
    api()
    const user = userEvent.setup()
    renderSettings()
    await user.click(await screen.findByRole('radio', { name: /intimate/i }))
    const dialog = screen.getByRole('dialog')
    expect(
      within(dialog).getByText('Intimate mode is for adults. Confirm you are 18 or older.'),
    ).toBeInTheDocument()
  })

  it('cancel sends nothing and keeps secretary', async () => {
    const { patches } = api()
    const user = userEvent.setup()
    renderSettings()
    await user.click(await screen.findByRole('radio', { name: /intimate/i }))
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Cancel' }))
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument()
    expect(screen.getByRole('radio', { name: /secretary/i })).toBeChecked()
    expect(screen.getByRole('radio', { name: /intimate/i })).not.toBeChecked()
    expect(patches).toEqual([])
  })

  it('confirm sends confirm_adult and the mode, and intimate is chosen', async () => {
    const { patches } = api()
    const user = userEvent.setup()
    renderSettings()
    await user.click(await screen.findByRole('radio', { name: /intimate/i }))
    await user.click(within(screen.getByRole('dialog')).getByRole('button', { name: 'Confirm' }))
    await waitFor(() => expect(screen.queryByRole('dialog')).not.toBeInTheDocument())
    expect(patches).toEqual([{ confirm_adult: true, mode: 'intimate' }])
    expect(screen.getByRole('radio', { name: /intimate/i })).toBeChecked()
    expect(await screen.findByText(/You confirmed you are 18 or older/)).toBeInTheDocument()
  })

  it('a 403 shows its detail and changes nothing', async () => {
    api({
      patch: () =>
        HttpResponse.json(
          { detail: 'Intimate mode requires confirming you are 18 or older (confirm_adult: true)' },
          { status: 403 },
        ),
    })
    const user = userEvent.setup()
    renderSettings()
    await user.click(await screen.findByRole('radio', { name: /intimate/i }))
    const dialog = screen.getByRole('dialog')
    await user.click(within(dialog).getByRole('button', { name: 'Confirm' }))
    expect(await within(dialog).findByRole('alert')).toHaveTextContent(
      'Intimate mode requires confirming you are 18 or older',
    )
    await user.click(within(dialog).getByRole('button', { name: 'Cancel' }))
    expect(screen.getByRole('radio', { name: /secretary/i })).toBeChecked()
    expect(screen.queryByText(/You confirmed you are 18 or older/)).not.toBeInTheDocument()
  })

  it('once confirmed, intimate is chosen without the dialog', async () => {
    const { patches } = api({
      prefs: { ...basePrefs, adult_confirmed: true, adult_confirmed_at: 1_700_000_000_000 },
    })
    const user = userEvent.setup()
    renderSettings()
    await user.click(await screen.findByRole('radio', { name: /intimate/i }))
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument()
    await waitFor(() => expect(patches).toEqual([{ mode: 'intimate' }]))
    expect(screen.getByRole('radio', { name: /intimate/i })).toBeChecked()
  })

  it('the confirmation can be withdrawn, which leaves intimate mode', async () => {
    const { patches } = api({
      prefs: {
        ...basePrefs,
        mode: 'intimate',
        adult_confirmed: true,
        adult_confirmed_at: 1_700_000_000_000,
      },
    })
    const user = userEvent.setup()
    renderSettings()
    await user.click(await screen.findByRole('button', { name: 'Withdraw confirmation' }))
    expect(screen.getByRole('radio', { name: /secretary/i })).toBeChecked()
    await waitFor(() => expect(patches).toEqual([{ confirm_adult: false }]))
    expect(screen.queryByRole('button', { name: 'Withdraw confirmation' })).not.toBeInTheDocument()
  })

  it('/settings#companion brings the companion section to the user', async () => {
    api()
    const scrolled = vi.fn()
    Element.prototype.scrollIntoView = scrolled
    onTestFinished(() => {
      delete (Element.prototype as { scrollIntoView?: unknown }).scrollIntoView
    })
    renderSettings('/settings#companion')
    await screen.findByRole('radio', { name: /intimate/i })
    const section = screen.getByRole('region', { name: 'Companion' })
    await waitFor(() => expect(section).toHaveFocus())
    expect(section).toHaveAttribute('id', 'companion')
    expect(scrolled).toHaveBeenCalled()
  })
})

describe('SettingsPage: photos', () => {
  it('the switch turns photos on at once and saves it', async () => {
    const { patches } = api()
    const user = userEvent.setup()
    renderSettings()
    const toggle = await screen.findByRole('switch', { name: /photos/i })
    expect(toggle).toHaveAttribute('aria-checked', 'false')
    await user.click(toggle)
    expect(toggle).toHaveAttribute('aria-checked', 'true')
    await waitFor(() => expect(patches).toEqual([{ photos_enabled: true }]))
  })

  it('a refused change is rolled back and its detail shown', async () => {
    api({
      patch: () => HttpResponse.json({ detail: 'Preferences not found' }, { status: 404 }),
    })
    const user = userEvent.setup()
    renderSettings()
    const toggle = await screen.findByRole('switch', { name: /photos/i })
    await user.click(toggle)
    const photos = screen.getByRole('region', { name: 'Photos' })
    expect(await within(photos).findByRole('alert')).toHaveTextContent('Preferences not found')
    expect(toggle).toHaveAttribute('aria-checked', 'false')
  })
})

describe('SettingsPage: subscription', () => {
  const periodEnd = Date.UTC(2030, 2, 5, 12)

  it('shows an active subscription, its renewal date and the portal button', async () => {
    api({
      billing: {
        status: 'active',
        active: true,
        current_period_end: periodEnd,
        cancel_at_period_end: false,
        can_manage: true,
      },
    })
    const assign = stubAssign()
    server.use(
      http.post('*/billing/portal', () =>
        HttpResponse.json({ portal_url: 'https://billing.example/portal/1' }),
      ),
    )
    const user = userEvent.setup()
    renderSettings()
    const sub = screen.getByRole('region', { name: 'Subscription' })
    expect(await within(sub).findByText('Active')).toBeInTheDocument()
    expect(within(sub).getByText(`Renews on ${formatDate(periodEnd)}`)).toBeInTheDocument()
    expect(within(sub).queryByRole('link', { name: 'Subscribe' })).not.toBeInTheDocument()
    await user.click(within(sub).getByRole('button', { name: 'Manage subscription' }))
    await waitFor(() => expect(assign).toHaveBeenCalledWith('https://billing.example/portal/1'))
  })

  it('says when it cancels at the end of the period', async () => {
    api({
      billing: {
        status: 'active',
        active: true,
        current_period_end: periodEnd,
        cancel_at_period_end: true,
        can_manage: true,
      },
    })
    renderSettings()
    const sub = screen.getByRole('region', { name: 'Subscription' })
    expect(await within(sub).findByText('Cancels at period end')).toBeInTheDocument()
    expect(within(sub).getByText(`Access until ${formatDate(periodEnd)}`)).toBeInTheDocument()
  })

  it('says a past-due payment is being retried', async () => {
    api({
      billing: {
        status: 'past_due',
        active: true,
        current_period_end: periodEnd,
        cancel_at_period_end: false,
        can_manage: true,
      },
    })
    renderSettings()
    const sub = screen.getByRole('region', { name: 'Subscription' })
    expect(await within(sub).findByText('Past due')).toBeInTheDocument()
    expect(within(sub).getByText(/being retried/)).toBeInTheDocument()
  })

  it('without a subscription it links to the Subscribe page', async () => {
    api()
    const user = userEvent.setup()
    renderSettings()
    const sub = screen.getByRole('region', { name: 'Subscription' })
    expect(await within(sub).findByText('No subscription')).toBeInTheDocument()
    expect(
      within(sub).queryByRole('button', { name: 'Manage subscription' }),
    ).not.toBeInTheDocument()
    await user.click(within(sub).getByRole('link', { name: 'Subscribe' }))
    expect(await screen.findByText('Subscribe page')).toBeInTheDocument()
  })

  it('shows the detail when the portal cannot be opened', async () => {
    api({
      billing: {
        status: 'canceled',
        active: false,
        current_period_end: periodEnd,
        cancel_at_period_end: false,
        can_manage: true,
      },
    })
    server.use(
      http.post('*/billing/portal', () =>
        HttpResponse.json(
          { detail: 'No subscription to manage yet: subscribe first' },
          { status: 409 },
        ),
      ),
    )
    const user = userEvent.setup()
    renderSettings()
    const sub = screen.getByRole('region', { name: 'Subscription' })
    expect(await within(sub).findByText('Canceled')).toBeInTheDocument()
    expect(within(sub).getByText(`Ended on ${formatDate(periodEnd)}`)).toBeInTheDocument()
    await user.click(within(sub).getByRole('button', { name: 'Manage subscription' }))
    expect(await within(sub).findByRole('alert')).toHaveTextContent(
      'No subscription to manage yet: subscribe first',
    )
  })

  it('shows the error of the status with a retry', async () => {
    api()
    server.use(
      http.get('*/billing/status', () =>
        HttpResponse.json({ detail: 'The server failed; try again.' }, { status: 500 }),
      ),
    )
    renderSettings()
    const sub = screen.getByRole('region', { name: 'Subscription' })
    expect(await within(sub).findByRole('alert')).toHaveTextContent('The server failed; try again.')
    expect(within(sub).getByRole('button', { name: 'Try again' })).toBeInTheDocument()
  })
})
