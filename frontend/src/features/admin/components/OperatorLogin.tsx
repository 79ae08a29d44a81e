import { useMutation } from '@tanstack/react-query'
import { useState, type FormEvent } from 'react'

import { Alert } from '@/components/Alert'
import { Button } from '@/components/Button'
import { TextField } from '@/components/TextField'
import { isStatus, messageOf } from '@/lib/api/errors'
import { useOperatorStore } from '@/stores/useAuthStore'
import { checkOperatorToken } from '../api/admin'

function explain(error: unknown): string {
  if (isStatus(error, 401)) return 'That is not the operator token of this host.'
  if (isStatus(error, 404)) {
    return 'The dashboard is off on this host: start it with AVA_OPERATOR_TOKEN set.'
  }
  return messageOf(error)
}

/** Asks for the operator token (AVA_OPERATOR_TOKEN) and keeps it for this tab once it works. */
export function OperatorLogin() {
  const [token, setToken] = useState('')
  const keep = useOperatorStore((s) => s.setToken)
  const check = useMutation({ mutationFn: checkOperatorToken, onSuccess: (_data, t) => keep(t) })

  const submit = (event: FormEvent) => {
    event.preventDefault()
    if (token.trim()) check.mutate(token.trim())
  }

  return (
    <div className="flex min-h-full items-center justify-center p-4">
      <form
        onSubmit={submit}
        className="w-full max-w-sm space-y-5 rounded-2xl border border-gray-800 bg-gray-900 p-6"
      >
        <div>
          <h1 className="text-xl font-bold">Operator dashboard</h1>
          <p className="mt-1 text-sm text-gray-400">
            Plugins, their live figures and the dead jobs of this Ava host.
          </p>
        </div>
        <TextField
          label="Operator token"
          type="password"
          autoComplete="off"
          value={token}
          error={check.error ? explain(check.error) : undefined}
          hint="The host's AVA_OPERATOR_TOKEN. Kept in this tab only."
          onChange={(e) => {
            check.reset()
            setToken(e.target.value)
          }}
        />
        <Button type="submit" className="w-full" busy={check.isPending} disabled={!token.trim()}>
          Open dashboard
        </Button>
        {check.error && !isStatus(check.error, 401) && !isStatus(check.error, 404) && (
          <Alert>{messageOf(check.error)}</Alert>
        )}
      </form>
    </div>
  )
}
