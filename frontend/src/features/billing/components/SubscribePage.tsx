import { ArrowLeft, Check, CircleCheck, Lock } from 'lucide-react'
import { useEffect, useState } from 'react'
import { Link, useSearchParams } from 'react-router'

import { Button } from '@/components/Button'
import { Spinner } from '@/components/Spinner'
import { isStatus, messageOf } from '@/lib/api/errors'
import { useAuthStore } from '@/stores/useAuthStore'
import { useBillingStatus, useCheckout } from '../api/billing'
import { newIdempotencyKey } from '../lib/idempotencyKey'

const perks = [
  'Unlimited chat in secretary and intimate modes',
  'AI-generated photos during intimate conversations',
  'All persona styles included',
]

/**
 * The paywall (`/subscribe`, full screen): one button to the provider's checkout.
 * `?cancelled=1` is where an abandoned checkout comes back to.
 */
export function SubscribePage() {
  const [params] = useSearchParams()
  const cancelled = params.get('cancelled') === '1'
  const email = useAuthStore((s) => s.user?.email)
  const status = useBillingStatus()
  const checkout = useCheckout()
  // One key for this Subscribe attempt, kept when the user retries after an error.
  const [attemptKey] = useState(newIdempotencyKey)

  // Back from the provider's page through the browser's cache: the page must not stay stuck
  // on "Redirecting".
  const { reset } = checkout
  useEffect(() => {
    const onShow = (e: PageTransitionEvent) => {
      if (e.persisted) reset()
    }
    window.addEventListener('pageshow', onShow)
    return () => window.removeEventListener('pageshow', onShow)
  }, [reset])

  const active = status.data?.active === true
  const redirecting = checkout.isPending || checkout.isSuccess

  return (
    <main className="flex min-h-full flex-col items-center justify-center bg-gray-950 p-4 text-white">
      <title>Subscribe · Ava</title>
      <div className="w-full max-w-sm space-y-4">
        <div className="flex items-center justify-between gap-3 text-sm">
          <Link
            to="/chat"
            className="inline-flex items-center gap-1.5 rounded-lg py-1 text-gray-400 hover:text-white"
          >
            <ArrowLeft aria-hidden className="h-4 w-4" />
            Back to chat
          </Link>
          {email && (
            <p className="min-w-0 truncate text-gray-500" title={email}>
              <span className="sr-only">Signed in as </span>
              {email}
            </p>
          )}
        </div>

        <div className="space-y-6 rounded-2xl border border-gray-800 bg-gray-900 p-6 text-center sm:p-8 shadow-xl shadow-black/30">
          <div>
            <h1 className="text-2xl font-bold">Unlock Ava</h1>
            <p className="mt-2 text-sm text-gray-400">
              Subscribe to start chatting and receiving photos.
            </p>
          </div>

          {cancelled && !active && (
            <p role="status" className="text-sm text-yellow-400">
              Checkout cancelled — no charge made.
            </p>
          )}

          <div className="space-y-2 rounded-xl bg-gray-800 p-4">
            <p className="text-lg font-semibold">Monthly subscription</p>
            <ul className="space-y-1.5 text-left text-sm text-gray-400">
              {perks.map((perk) => (
                <li key={perk} className="flex gap-2">
                  <Check aria-hidden className="mt-0.5 h-4 w-4 shrink-0 text-purple-400" />
                  <span>{perk}</span>
                </li>
              ))}
            </ul>
          </div>

          {checkout.error && !active && (
            <div role="alert" className="space-y-1 text-sm text-red-400">
              <p>{messageOf(checkout.error)}</p>
              {isStatus(checkout.error, 409) && (
                <Link to="/chat" className="font-medium text-purple-300 underline">
                  Go to the chat
                </Link>
              )}
            </div>
          )}

          {status.isPending ? (
            <div className="flex justify-center py-3 text-purple-300">
              <Spinner label="Checking your subscription" />
            </div>
          ) : active ? (
            <div className="space-y-3 rounded-xl border border-emerald-700/60 bg-emerald-950/40 p-4">
              <p className="flex items-center justify-center gap-2 font-semibold text-emerald-200">
                <CircleCheck aria-hidden className="h-5 w-5" />
                You&apos;re subscribed
              </p>
              <Link
                to="/chat"
                className="block w-full rounded-xl bg-purple-600 py-3 font-semibold text-white hover:bg-purple-500"
              >
                Go to the chat
              </Link>
            </div>
          ) : (
            <div className="space-y-3">
              {status.isError && (
                <p role="alert" className="text-sm text-yellow-300">
                  Could not check your subscription: {messageOf(status.error)}{' '}
                  <button
                    type="button"
                    onClick={() => void status.refetch()}
                    className="font-medium text-purple-300 underline"
                  >
                    Try again
                  </button>
                </p>
              )}
              <Button
                onClick={() => checkout.mutate(attemptKey)}
                busy={redirecting}
                className="w-full py-3 text-base"
              >
                {redirecting ? 'Redirecting to checkout...' : 'Subscribe now'}
              </Button>
            </div>
          )}

          <p className="text-xs text-gray-500">
            <Lock aria-hidden className="mr-1 inline h-3 w-3 align-[-1px]" />
            Secure payment via Stripe. Cancel anytime.
          </p>
        </div>
      </div>
    </main>
  )
}
