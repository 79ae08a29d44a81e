import { LogOut } from 'lucide-react'
import type { ReactNode } from 'react'

import { Button } from '@/components/Button'
import { Loading } from '@/components/Spinner'
import { QueryError } from '@/components/QueryError'
import { useLogout, useMe } from '@/features/auth'
import { formatDate } from '../lib/subscription'
import { Section } from './Section'

export function AccountSection() {
  const me = useMe()
  const { logout, isPending } = useLogout()
  return (
    <Section id="account" title="Account">
      {me.isPending ? (
        <Loading label="Loading your account" />
      ) : me.isError ? (
        <QueryError error={me.error} retry={() => void me.refetch()} />
      ) : (
        <dl className="space-y-3 text-sm">
          <Row term="Email">
            <span className="font-medium">{me.data.user.email}</span>
          </Row>
          <Row term="Display name">
            {me.data.user.display_name || <span className="text-gray-500">Not set</span>}
          </Row>
          <Row term="Member since">{formatDate(me.data.user.created_at)}</Row>
        </dl>
      )}
      <div className="border-t border-gray-800 pt-4">
        <Button variant="secondary" onClick={logout} busy={isPending}>
          {!isPending && <LogOut aria-hidden className="h-4 w-4" />}
          {isPending ? 'Logging out…' : 'Log out'}
        </Button>
      </div>
    </Section>
  )
}

function Row({ term, children }: { term: string; children: ReactNode }) {
  return (
    <div className="grid gap-0.5 sm:grid-cols-[10rem_1fr] sm:gap-4">
      <dt className="text-gray-400">{term}</dt>
      <dd className="min-w-0 break-words text-gray-100">{children}</dd>
    </div>
  )
}
