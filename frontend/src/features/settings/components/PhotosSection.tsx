import { Alert } from '@/components/Alert'
import { messageOf } from '@/lib/api/errors'
import { useUpdatePreferences, type Preferences } from '../api/preferences'
import { Section } from './Section'
import { Switch } from './Switch'

export function PhotosSection({ prefs }: { prefs: Preferences }) {
  const update = useUpdatePreferences()
  return (
    <Section id="photos" title="Photos">
      <Switch
        label="Allow photos"
        description="Let your companion send you photos during a conversation. They appear in the chat and in Photos."
        checked={prefs.photos_enabled}
        onChange={(photos_enabled) => update.mutate({ photos_enabled })}
      />
      {update.error && <Alert tone="error">{messageOf(update.error)}</Alert>}
    </Section>
  )
}
