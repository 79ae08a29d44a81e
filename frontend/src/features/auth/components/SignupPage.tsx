import { useState, type FormEvent } from 'react'
import { Link, useNavigate, useSearchParams } from 'react-router'

import { Alert } from '@/components/Alert'
import { Button } from '@/components/Button'
import { TextField } from '@/components/TextField'
import { isStatus } from '@/lib/api/errors'
import { useSignup } from '../api/auth'
import { tooManyAttempts, useRateLimit, waitOf } from '../hooks/useRateLimit'
import { formErrors } from '../lib/formErrors'
import { nextQuery, safeNext } from '../lib/next'
import { AuthCard } from './AuthCard'
import { PasswordField } from './PasswordField'

const fields = ['email', 'password', 'display_name'] as const

export function SignupPage() {
  const [params] = useSearchParams()
  const next = params.get('next')
  const navigate = useNavigate()
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [displayName, setDisplayName] = useState('')
  const signup = useSignup()
  const limit = useRateLimit()
  const errors = formErrors(signup.error, fields)

  function submit(event: FormEvent) {
    event.preventDefault()
    if (limit.secondsLeft > 0) return
    const name = displayName.trim()
    signup.mutate(
      { email, password, ...(name ? { display_name: name } : {}) },
      {
        onSuccess: () => void navigate(safeNext(next), { replace: true }),
        onError: (error) => {
          if (isStatus(error, 429)) limit.lock(waitOf(error))
        },
      },
    )
  }

  function edit(field: (typeof fields)[number], set: (value: string) => void) {
    return (value: string) => {
      if (errors.at[field]) signup.reset()
      set(value)
    }
  }

  const busy = signup.isPending || signup.isSuccess
  return (
    <AuthCard
      title="Create your account"
      subtitle="Meet Ava, your AI companion. It takes a minute."
      footer={
        <>
          Already have an account?{' '}
          <Link to={`/login${nextQuery(next)}`} className="font-medium text-purple-300 underline">
            Log in
          </Link>
        </>
      }
    >
      <form noValidate onSubmit={submit} className="space-y-4">
        <div className="space-y-1">
          <TextField
            label="Email"
            type="email"
            name="email"
            autoComplete="email"
            inputMode="email"
            autoCapitalize="none"
            spellCheck={false}
            required
            value={email}
            onChange={(e) => edit('email', setEmail)(e.target.value)}
            error={errors.at.email}
          />
          {errors.taken && (
            <p className="text-xs text-gray-300">
              Is it yours?{' '}
              <Link
                to={`/login${nextQuery(next)}`}
                state={{ email }}
                className="font-medium text-purple-300 underline"
              >
                Log in instead
              </Link>
            </p>
          )}
        </div>
        <PasswordField
          name="password"
          autoComplete="new-password"
          required
          hint="At least 8 characters."
          value={password}
          onChange={(e) => edit('password', setPassword)(e.target.value)}
          error={errors.at.password}
        />
        <TextField
          label="Display name (optional)"
          name="display_name"
          autoComplete="nickname"
          maxLength={80}
          hint="What Ava calls you."
          value={displayName}
          onChange={(e) => edit('display_name', setDisplayName)(e.target.value)}
          error={errors.at.display_name}
        />
        {limit.secondsLeft > 0 && (
          <Alert tone="warning">{tooManyAttempts(limit.secondsLeft)}</Alert>
        )}
        {errors.general && <Alert tone="error">{errors.general}</Alert>}
        <Button type="submit" className="w-full py-3" busy={busy} disabled={limit.secondsLeft > 0}>
          {busy ? 'Creating account…' : 'Create account'}
        </Button>
        <p className="text-center text-xs text-gray-500">
          Ava is an AI. Intimate mode is for adults only.
        </p>
      </form>
    </AuthCard>
  )
}
