import { act, screen, waitFor } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { http, HttpResponse } from 'msw'
import { afterEach, describe, expect, it, vi } from 'vitest'

import { renderPage, testUser } from '@/test/render'
import { server } from '@/test/server'
import { useAuthStore } from '@/stores/useAuthStore'
import { LoginPage } from './LoginPage'
import { SignupPage } from './SignupPage'

const routes = [
  { path: '/chat', element: <p>Chat page</p> },
  { path: '/signup', element: <p>Signup page</p> },
]

async function logIn(user = userEvent.setup()) {
  await user.type(screen.getByLabelText('Email'), 'sam@example.com')
  await user.type(screen.getByLabelText('Password'), 'wrong password')
  await user.click(screen.getByRole('button', { name: 'Log in' }))
  return user
}

afterEach(() => {
  vi.useRealTimers()
})

describe('LoginPage', () => {
  it('signs in and goes to the chat', async () => {
    server.use(
      http.post('*/auth/login', () => HttpResponse.json({ token: 'tok-1', user: testUser })),
    )
    renderPage(<LoginPage />, { path: '/login', routes })
    await logIn()
    expect(await screen.findByText('Chat page')).toBeInTheDocument()
    expect(useAuthStore.getState().user?.email).toBe(testUser.email)
  })

  it('shows the generic message of a 401 without marking a field', async () => {
    server.use(
      http.post('*/auth/login', () =>
        HttpResponse.json({ detail: 'Invalid email or password' }, { status: 401 }),
      ),
    )
    renderPage(<LoginPage />, { path: '/login', routes })
    await logIn()
    expect(await screen.findByRole('alert')).toHaveTextContent('Invalid email or password')
    expect(screen.getByLabelText('Email')).not.toHaveAttribute('aria-invalid')
    expect(screen.getByLabelText('Password')).not.toHaveAttribute('aria-invalid')
    expect(screen.getByLabelText('Email')).toHaveValue('sam@example.com')
    expect(useAuthStore.getState().token).toBeNull()
  })

  it('says how long to wait after a 429 and disables the button meanwhile', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true })
    server.use(
      http.post('*/auth/login', () =>
        HttpResponse.json(
          { detail: 'Too many login attempts; try again in 3 seconds' },
          { status: 429, headers: { 'Retry-After': '3' } },
        ),
      ),
    )
    renderPage(<LoginPage />, { path: '/login', routes })
    await logIn(userEvent.setup({ advanceTimers: vi.advanceTimersByTime }))
    expect(
      await screen.findByText('Too many attempts — try again in 3 seconds'),
    ).toBeInTheDocument()
    expect(screen.getByRole('button', { name: 'Log in' })).toBeDisabled()
    await act(() => vi.advanceTimersByTimeAsync(1000))
    expect(screen.getByText('Too many attempts — try again in 2 seconds')).toBeInTheDocument()
    await act(() => vi.advanceTimersByTimeAsync(2500))
    await waitFor(() => expect(screen.getByRole('button', { name: 'Log in' })).toBeEnabled())
    expect(screen.queryByText(/Too many attempts/)).not.toBeInTheDocument()
  })

  it('reads the wait from the detail when the 429 has no Retry-After', async () => {
    server.use(
      http.post('*/auth/login', () =>
        HttpResponse.json(
          { detail: 'Too many login attempts; try again in 42 seconds' },
          { status: 429 },
        ),
      ),
    )
    renderPage(<LoginPage />, { path: '/login', routes })
    await logIn()
    expect(
      await screen.findByText('Too many attempts — try again in 42 seconds'),
    ).toBeInTheDocument()
  })

  it('prefills the email handed over by the sign-up page when the email is taken', async () => {
    server.use(
      http.post('*/auth/register', () =>
        HttpResponse.json({ detail: 'An account with this email already exists' }, { status: 409 }),
      ),
    )
    const user = userEvent.setup()
    renderPage(<SignupPage />, {
      path: '/signup',
      routes: [{ path: '/login', element: <LoginPage /> }],
    })
    await user.type(screen.getByLabelText('Email'), 'sam@example.com')
    await user.type(screen.getByLabelText('Password'), 'correct horse')
    await user.click(screen.getByRole('button', { name: 'Create account' }))
    await user.click(await screen.findByRole('link', { name: 'Log in instead' }))
    expect(await screen.findByRole('heading', { name: 'Log in' })).toBeInTheDocument()
    expect(screen.getByLabelText('Email')).toHaveValue('sam@example.com')
  })

  it('marks its fields for password managers', () => {
    renderPage(<LoginPage />, { path: '/login', routes })
    expect(screen.getByLabelText('Email')).toHaveAttribute('autocomplete', 'username')
    expect(screen.getByLabelText('Password')).toHaveAttribute('autocomplete', 'current-password')
  })
})
