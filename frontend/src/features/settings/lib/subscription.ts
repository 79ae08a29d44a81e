/** A subscription status in words, for the user. */
export function statusWords(status: string): { label: string; note?: string } {
  switch (status) {
    case 'active':
      return { label: 'Active' }
    case 'trialing':
      return { label: 'Trial' }
    case 'past_due':
      return {
        label: 'Past due',
        note: 'Your last payment failed and is being retried. Chat keeps working meanwhile.',
      }
    case 'unpaid':
      return { label: 'Unpaid', note: 'Payments failed; update your payment method.' }
    case 'canceled':
      return { label: 'Canceled' }
    case 'incomplete':
    case 'incomplete_expired':
      return { label: 'Incomplete', note: 'The first payment was not completed.' }
    case 'none':
      return { label: 'No subscription' }
    default: {
      const words = status.replace(/_/g, ' ')
      return { label: words.charAt(0).toUpperCase() + words.slice(1) }
    }
  }
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'long' })

/** A date (ms since the epoch) in the user's locale. */
export function formatDate(ms: number): string {
  return dateFormat.format(new Date(ms))
}

/** What the period end means for this subscription. */
export function periodWords(sub: {
  status: string
  active: boolean
  current_period_end?: number | null
  cancel_at_period_end: boolean
}): string | null {
  const end = sub.current_period_end
  if (end === null || end === undefined) return null
  const date = formatDate(end)
  if (!sub.active) return `Ended on ${date}`
  if (sub.cancel_at_period_end) return `Access until ${date}`
  if (sub.status === 'trialing') return `Trial ends on ${date}`
  return `Renews on ${date}`
}
