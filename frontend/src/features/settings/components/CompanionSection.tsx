import { useState } from 'react'

import { Alert } from '@/components/Alert'
import { Button } from '@/components/Button'
import { messageOf } from '@/lib/api/errors'
import { useUpdatePreferences, type Preferences } from '../api/preferences'
import { formatDate } from '../lib/subscription'
import { AgeGateDialog } from './AgeGateDialog'
import { Section } from './Section'

const modes = [
  {
    value: 'secretary',
    title: 'Secretary',
    description: 'Helpful, focused and friendly: plans, reminders, a good chat.',
  },
  {
    value: 'intimate',
    title: 'Intimate',
    description: 'Flirty, romantic and personal. For adults (18+).',
  },
] as const

export function CompanionSection({ prefs }: { prefs: Preferences }) {
  const update = useUpdatePreferences()
  // Intimate chosen, waiting for the 18+ confirmation.
  const [gate, setGate] = useState(false)
  const shown = gate ? 'intimate' : prefs.mode

  function choose(mode: 'secretary' | 'intimate') {
    if (mode === prefs.mode && !gate) return
    if (mode === 'intimate' && !prefs.adult_confirmed) {
      update.reset()
      setGate(true)
      return
    }
    update.mutate({ mode })
  }

  return (
    <>
      <Section
        id="companion"
        title="Companion"
        description="How your companion talks with you. Changes apply from your next message."
      >
        <fieldset className="space-y-3">
          <legend className="mb-3 text-sm font-medium text-gray-300">Mode</legend>
          <div className="grid gap-3 sm:grid-cols-2">
            {modes.map((m) => (
              <label
                key={m.value}
                className={`flex cursor-pointer gap-3 rounded-xl border p-4 transition-colors has-[:focus-visible]:outline-2 has-[:focus-visible]:outline-purple-400 ${shown === m.value ? 'border-purple-500 bg-purple-950/40' : 'border-gray-700 bg-gray-950/40 hover:border-gray-600'}`}
              >
                <input
                  type="radio"
                  name="mode"
                  value={m.value}
                  checked={shown === m.value}
                  onChange={() => choose(m.value)}
                  className="mt-0.5 h-4 w-4 shrink-0 accent-purple-500 focus-visible:outline-none"
                />
                <span className="min-w-0">
                  <span className="block text-sm font-semibold text-gray-100">{m.title}</span>
                  <span className="mt-0.5 block text-sm text-gray-400">{m.description}</span>
                </span>
              </label>
            ))}
          </div>
        </fieldset>

        {prefs.adult_confirmed && (
          <div className="flex flex-wrap items-center justify-between gap-2 rounded-xl bg-gray-950/40 px-4 py-3 text-sm text-gray-400">
            <p>
              You confirmed you are 18 or older
              {prefs.adult_confirmed_at ? ` on ${formatDate(prefs.adult_confirmed_at)}` : ''}.
            </p>
            <Button
              variant="ghost"
              className="-mx-2 px-2 py-1.5"
              disabled={update.isPending}
              onClick={() => update.mutate({ confirm_adult: false })}
            >
              Withdraw confirmation
            </Button>
          </div>
        )}

        {update.error && <Alert tone="error">{messageOf(update.error)}</Alert>}
      </Section>
      <AgeGateDialog open={gate} onDone={() => setGate(false)} />
    </>
  )
}
