import { useQuery, useQueryClient } from '@tanstack/react-query'
import { CircleCheck, X } from 'lucide-react'
import { useEffect, useRef, useState } from 'react'
import { useSearchParams } from 'react-router'

import { Alert } from '@/components/Alert'
import { Button } from '@/components/Button'
import { Spinner } from '@/components/Spinner'
import { messageOf } from '@/lib/api/errors'
import { authKeys, billingKeys } from '@/lib/queryKeys'
import { useUserId } from '@/stores/session'
import { getBillingStatus } from '../api/billing'

/** How often the status is asked while the payment is being confirmed. */
export const POLL_MS = 1500
/** After this long without activation, polling stops and the user is told what to do. */
export const GIVE_UP_MS = 60_000

/**
 * Back from the checkout (`?checkout=success&session_id=...`, above every signed-in page):
 * the provider's redirect can arrive before its webhook, so the subscription is confirmed
 * by polling `GET /billing/status` until it is active, then a success banner. Renders
 * nothing on any other URL.
 */
export function CheckoutReturn() {
  const [params] = useSearchParams()
  if (params.get('checkout') !== 'success') return null
  return <CheckoutProgress sessionId={params.get('session_id')} />
}

function CheckoutProgress({ sessionId }: { sessionId: string | null }) {
  const userId = useUserId()
  const queryClient = useQueryClient()
  const [, setParams] = useSearchParams()
  const [timedOut, setTimedOut] = useState(false)

  const status = useQuery({
    queryKey: billingKeys.status(userId),
    queryFn: ({ signal }) => getBillingStatus(signal),
    refetchOnMount: 'always',
    refetchInterval: (query) => (query.state.data?.active || timedOut ? false : POLL_MS),
  })
  const active = status.data?.active === true

  useEffect(() => {
    if (active) return
    const timer = window.setTimeout(() => setTimedOut(true), GIVE_UP_MS)
    return () => window.clearTimeout(timer)
  }, [active])

  // Once active, what else shows the subscription (the account) is out of date.
  const announced = useRef(false)
  useEffect(() => {
    if (!active || announced.current) return
    announced.current = true
    void queryClient.invalidateQueries({ queryKey: authKeys.me(userId) })
  }, [active, queryClient, userId])

  function dismiss() {
    setParams(
      (current) => {
        const next = new URLSearchParams(current)
        next.delete('checkout')
        next.delete('session_id')
        return next
      },
      { replace: true },
    )
    void queryClient.invalidateQueries({ queryKey: billingKeys.status(userId) })
  }

  let banner
  if (active) {
    banner = (
      <Alert
        tone="success"
        action={
          <button
            type="button"
            onClick={dismiss}
            aria-label="Dismiss"
            className="-m-1 rounded-lg p-1 text-emerald-200 hover:bg-emerald-900/60 hover:text-white"
          >
            <X aria-hidden className="h-4 w-4" />
          </button>
        }
      >
        <p className="flex items-center gap-2 font-medium">
          <CircleCheck aria-hidden className="h-4 w-4 shrink-0" />
          You&apos;re subscribed — enjoy Ava!
        </p>
      </Alert>
    )
  } else if (timedOut) {
    banner = (
      <Alert tone="warning">
        <div className="space-y-3">
          <p>
            Your payment is taking longer than usual to confirm. It will activate automatically; you
            can refresh in a minute, or contact support
            {sessionId ? (
              <>
                {' '}
                with session id{' '}
                <code className="font-mono break-all text-yellow-100">{sessionId}</code>
              </>
            ) : null}
            .
          </p>
          {status.error && !status.isFetching && (
            <p className="text-red-300">Last check failed: {messageOf(status.error)}</p>
          )}
          <Button
            variant="secondary"
            busy={status.isFetching}
            onClick={() => void status.refetch()}
          >
            Check again
          </Button>
        </div>
      </Alert>
    )
  } else {
    banner = (
      <Alert tone="info">
        <p className="flex items-center gap-2 font-medium">
          <Spinner size="sm" />
          Confirming your payment…
        </p>
        <p className="mt-1 text-purple-200/80">This usually takes a few seconds.</p>
        {status.error && (
          <p role="alert" className="mt-1 text-red-300">
            Could not check the payment: {messageOf(status.error)} — trying again.
          </p>
        )}
      </Alert>
    )
  }

  return <div className="mx-auto w-full max-w-6xl px-4 pt-3">{banner}</div>
}
