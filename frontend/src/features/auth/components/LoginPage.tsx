import { useState, type FormEvent } from 'react'
import { Link, useLocation, useNavigate, useSearchParams } from 'react-router'

import { Alert } from '@/components/Alert'
import { Button } from '@/components/Button'
import { TextField } from '@/components/TextField'
import { isStatus } from '@/lib/api/errors'
import { useLogin } from '../api/auth'
import { tooManyAttempts, useRateLimit, waitOf } from '../hooks/useRateLimit'
import { formErrors } from '../lib/formErrors'
import { nextQuery, safeNext } from '../lib/next'
import { AuthCard } from './AuthCard'
import { PasswordField } from './PasswordField'

const fields = ['email', 'password'] as const

export function LoginPage() {
  const [params] = useSearchParams()
  const next = params.get('next')
  const location = useLocation()
  const navigate = useNavigate()
  const prefill = (location.state as { email?: unknown } | null)?.email
  const [email, setEmail] = useState(typeof prefill === 'string' ? prefill : '')
  const [password, setPassword] = useState('')
  const login = useLogin()
  const limit = useRateLimit()
  const errors = formErrors(login.error, fields)

  function submit(event: FormEvent) {
    event.preventDefault()
    if (limit.secondsLeft > 0) return
    login.mutate(
      { email, password },
      {
        onSuccess: () => void navigate(safeNext(next), { replace: true }),
        onError: (error) => {
          if (isStatus(error, 429)) limit.lock(waitOf(error))
        },
      },
    )
  }

  /** Editing the field at fault clears its message. */
  function edit(field: (typeof fields)[number], set: (value: string) => void) {
    return (value: string) => {
      if (errors.at[field]) login.reset()
      set(value)
    }
  }

  return (
    <AuthCard
      title="Log in"
      subtitle="Welcome back. Ava missed you."
      footer={
        <>
          New to Ava?{' '}
          <Link to={`/signup${nextQuery(next)}`} className="font-medium text-purple-300 underline">
            Create an account
          </Link>
        </>
      }
    >
      <form noValidate onSubmit={submit} className="space-y-4">
        <TextField
          label="Email"
          type="email"
          name="email"
          autoComplete="username"
          inputMode="email"
          autoCapitalize="none"
          spellCheck={false}
          required
          value={email}
          onChange={(e) => edit('email', setEmail)(e.target.value)}
          error={errors.at.email}
        />
        <PasswordField
          name="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => edit('password', setPassword)(e.target.value)}
          error={errors.at.password}
        />
        {limit.secondsLeft > 0 && (
          <Alert tone="warning">{tooManyAttempts(limit.secondsLeft)}</Alert>
        )}
        {errors.general && <Alert tone="error">{errors.general}</Alert>}
        <Button
          type="submit"
          className="w-full py-3"
          busy={login.isPending || login.isSuccess}
          disabled={limit.secondsLeft > 0}
        >
          {login.isPending || login.isSuccess ? 'Logging in…' : 'Log in'}
        </Button>
      </form>
    </AuthCard>
  )
}
