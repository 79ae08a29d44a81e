import { LogOut } from 'lucide-react'

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
        <dl className="grid gap-3 text-sm sm:grid-cols-[10rem_1fr]">
          <dt className="text-gray-400">Email</dt>
          <dd className="min-w-0 font-medium break-words text-gray-100">{me.data.user.email}</dd>
          <dt className="text-gray-400">Display name</dt>
          <dd className="min-w-0 break-words text-gray-100">
            {me.data.user.display_name || <span className="text-gray-500">Not set</span>}
          </dd>
          <dt className="text-gray-400">Member since</dt>
          <dd className="text-gray-100">{formatDate(me.data.user.created_at)}</dd>
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
