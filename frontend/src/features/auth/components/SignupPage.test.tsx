import { screen, waitFor } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { http, HttpResponse } from 'msw'
import { describe, expect, it } from 'vitest'

import { renderPage, testUser } from '@/test/render'
import { server } from '@/test/server'
import { useAuthStore } from '@/stores/useAuthStore'
import { SignupPage } from './SignupPage'

const routes = [
  { path: '/chat', element: <p>Chat page</p> },
  { path: '/personas', element: <p>Personas page</p> },
  { path: '/login', element: <p>Login page</p> },
]

async function fillAndSubmit(email = 'sam@example.com', password = 'correct horse') {
  const user = userEvent.setup()
  await user.type(screen.getByLabelText('Email'), email)
  await user.type(screen.getByLabelText('Password'), password)
  await user.type(screen.getByLabelText('Display name (optional)'), 'Sam')
  await user.click(screen.getByRole('button', { name: 'Create account' }))
  return user
}

describe('SignupPage', () => {
  it('signs in and goes to the chat after a sign-up', async () => {
    let sent: unknown
    server.use(
      http.post('*/auth/register', async ({ request }) => {
        sent = await request.json()
        return HttpResponse.json({ token: 'tok-new', user: testUser }, { status: 201 })
      }),
    )
    renderPage(<SignupPage />, { path: '/signup', routes })
    await fillAndSubmit()
    expect(await screen.findByText('Chat page')).toBeInTheDocument()
    expect(sent).toEqual({
      email: 'sam@example.com',
      password: 'correct horse',
      display_name: 'Sam',
    })
    expect(useAuthStore.getState().token).toBe('tok-new')
  })

  it('goes to a same-origin next path, and never to another origin', async () => {
    server.use(
      http.post('*/auth/register', () =>
        HttpResponse.json({ token: 't', user: testUser }, { status: 201 }),
      ),
    )
    const { router } = renderPage(<SignupPage />, {
      path: '/signup',
      url: '/signup?next=%2Fpersonas',
      routes,
    })
    await fillAndSubmit()
    expect(await screen.findByText('Personas page')).toBeInTheDocument()
    expect(router.state.location.pathname).toBe('/personas')
  })

  it('ignores a next that points to another origin', async () => {
    server.use(
      http.post('*/auth/register', () =>
        HttpResponse.json({ token: 't', user: testUser }, { status: 201 }),
      ),
    )
    renderPage(<SignupPage />, {
      path: '/signup',
      url: `/signup?next=${encodeURIComponent('//evil.example/phish')}`,
      routes,
    })
    await fillAndSubmit()
    expect(await screen.findByText('Chat page')).toBeInTheDocument()
  })

  it('shows a 422 at the field it names and keeps what was typed', async () => {
    server.use(
      http.post('*/auth/register', () =>
        HttpResponse.json(
          { detail: 'password: must be at least 8 characters', field: 'password' },
          { status: 422 },
        ),
      ),
    )
    renderPage(<SignupPage />, { path: '/signup', routes })
    await fillAndSubmit('sam@example.com', 'short')
    const password = screen.getByLabelText('Password')
    await waitFor(() =>
      expect(password).toHaveAccessibleDescription('must be at least 8 characters'),
    )
    expect(password).toHaveAttribute('aria-invalid', 'true')
    expect(password).toHaveValue('short')
    expect(screen.getByLabelText('Email')).toHaveValue('sam@example.com')
    expect(screen.getByLabelText('Email')).not.toHaveAttribute('aria-invalid')
    expect(screen.getByLabelText('Display name (optional)')).toHaveValue('Sam')
  })

  it('shows a taken email at the email field with a link to log in', async () => {
    server.use(
      http.post('*/auth/register', () =>
        HttpResponse.json({ detail: 'An account with this email already exists' }, { status: 409 }),
      ),
    )
    renderPage(<SignupPage />, { path: '/signup', routes })
    const user = await fillAndSubmit()
    const email = screen.getByLabelText('Email')
    await waitFor(() =>
      expect(email).toHaveAccessibleDescription('An account with this email already exists'),
    )
    expect(email).toHaveAttribute('aria-invalid', 'true')
    await user.click(screen.getByRole('link', { name: 'Log in instead' }))
    expect(await screen.findByText('Login page')).toBeInTheDocument()
  })

  it('shows a server failure above the button without losing the form', async () => {
    server.use(
      http.post('*/auth/register', () =>
        HttpResponse.json({ detail: 'The database is busy' }, { status: 503 }),
      ),
    )
    renderPage(<SignupPage />, { path: '/signup', routes })
    await fillAndSubmit()
    expect(await screen.findByRole('alert')).toHaveTextContent('The database is busy')
    expect(screen.getByLabelText('Password')).toHaveValue('correct horse')
  })

  it('shows and hides the password with a labelled toggle', async () => {
    const user = userEvent.setup()
    renderPage(<SignupPage />, { path: '/signup', routes })
    const password = screen.getByLabelText('Password')
    expect(password).toHaveAttribute('type', 'password')
    expect(password).toHaveAttribute('autocomplete', 'new-password')
    await user.click(screen.getByRole('button', { name: 'Show password' }))
    expect(password).toHaveAttribute('type', 'text')
    await user.click(screen.getByRole('button', { name: 'Hide password' }))
    expect(password).toHaveAttribute('type', 'password')
  })
})
