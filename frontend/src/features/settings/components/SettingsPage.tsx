import { useEffect } from 'react'
import { useLocation } from 'react-router'

import { Loading } from '@/components/Spinner'
import { QueryError } from '@/components/QueryError'
import { usePreferences } from '../api/preferences'
import { AccountSection } from './AccountSection'
import { CompanionSection } from './CompanionSection'
import { PhotosSection } from './PhotosSection'
import { Section } from './Section'
import { SubscriptionSection } from './SubscriptionSection'

/** `/settings`: account, companion mode, photos and subscription, one card each. */
export function SettingsPage() {
  const prefs = usePreferences()
  const { hash } = useLocation()
  const ready = prefs.isSuccess

  // `/settings#companion` (the chat's 18+ banner links there): bring the section into view
  // once it exists.
  useEffect(() => {
    if (!hash || !ready) return
    const target = document.getElementById(decodeURIComponent(hash.slice(1)))
    if (!target) return
    target.scrollIntoView?.({ block: 'start', behavior: 'smooth' })
    target.focus({ preventScroll: true })
    target.dataset.highlight = ''
    const fade = window.setTimeout(() => delete target.dataset.highlight, 1500)
    return () => window.clearTimeout(fade)
  }, [hash, ready])

  return (
    <div className="min-h-0 flex-1 overflow-y-auto">
      <title>Settings · Ava</title>
      <div className="mx-auto w-full max-w-2xl space-y-6 px-4 py-6 md:py-10">
        <h1 className="text-2xl font-bold text-white">Settings</h1>
        <AccountSection />
        {prefs.isPending ? (
          <Section id="companion" title="Companion">
            <Loading label="Loading your preferences" />
          </Section>
        ) : prefs.isError ? (
          <Section id="companion" title="Companion">
            <QueryError error={prefs.error} retry={() => void prefs.refetch()} />
          </Section>
        ) : (
          <>
            <CompanionSection prefs={prefs.data} />
            <PhotosSection prefs={prefs.data} />
          </>
        )}
        <SubscriptionSection />
      </div>
    </div>
  )
}
