import { ExternalLink } from 'lucide-react'
import { Link } from 'react-router'

import { Alert } from '@/components/Alert'
import { Button } from '@/components/Button'
import { Loading } from '@/components/Spinner'
import { QueryError } from '@/components/QueryError'
import { useBillingStatus, useOpenPortal } from '@/features/billing'
import { messageOf } from '@/lib/api/errors'
import { periodWords, statusWords } from '../lib/subscription'
import { Section } from './Section'

const badge: Record<string, string> = {
  active: 'bg-emerald-900/60 text-emerald-200 border-emerald-700',
  trialing: 'bg-emerald-900/60 text-emerald-200 border-emerald-700',
  past_due: 'bg-yellow-900/50 text-yellow-200 border-yellow-700',
  unpaid: 'bg-red-950/60 text-red-200 border-red-800',
}

export function SubscriptionSection() {
  const status = useBillingStatus()
  const portal = useOpenPortal()
  return (
    <Section id="subscription" title="Subscription">
      {status.isPending ? (
        <Loading label="Loading your subscription" />
      ) : status.isError ? (
        <QueryError error={status.error} retry={() => void status.refetch()} />
      ) : (
        <>
          <SubscriptionSummary sub={status.data} />
          {portal.error && <Alert tone="error">{messageOf(portal.error)}</Alert>}
          <div className="flex flex-wrap gap-3 border-t border-gray-800 pt-4">
            {status.data.can_manage && (
              <Button
                variant={status.data.active ? 'primary' : 'secondary'}
                busy={portal.isPending || portal.isSuccess}
                onClick={() => portal.mutate()}
              >
                Manage subscription
                {!(portal.isPending || portal.isSuccess) && (
                  <ExternalLink aria-hidden className="h-4 w-4" />
                )}
              </Button>
            )}
            {!status.data.active && (
              <Link
                to="/subscribe"
                className="inline-flex items-center justify-center rounded-xl bg-purple-600 px-4 py-2.5 text-sm font-semibold text-white hover:bg-purple-500"
              >
                Subscribe
              </Link>
            )}
          </div>
        </>
      )}
    </Section>
  )
}

function SubscriptionSummary({
  sub,
}: {
  sub: {
    status: string
    active: boolean
    current_period_end?: number | null
    cancel_at_period_end: boolean
  }
}) {
  const words = statusWords(sub.status)
  const period = periodWords(sub)
  return (
    <div className="space-y-2 text-sm">
      <p className="flex flex-wrap items-center gap-2">
        <span className="text-gray-400">Status</span>
        <span
          className={`rounded-full border px-2.5 py-0.5 text-xs font-semibold ${badge[sub.status] ?? 'border-gray-700 bg-gray-800 text-gray-200'}`}
        >
          {words.label}
        </span>
        {sub.cancel_at_period_end && sub.active && (
          <span className="rounded-full border border-yellow-700 bg-yellow-900/40 px-2.5 py-0.5 text-xs font-semibold text-yellow-200">
            Cancels at period end
          </span>
        )}
      </p>
      {words.note && <p className="text-gray-300">{words.note}</p>}
      {period && <p className="text-gray-300">{period}</p>}
      {sub.status === 'none' && (
        <p className="text-gray-400">Subscribe to chat with your companion and receive photos.</p>
      )}
    </div>
  )
}
