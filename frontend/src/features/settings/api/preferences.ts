import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'

import { api, unwrap } from '@/lib/api/client'
import type { components } from '@/lib/api/schema'
import { authKeys, chatKeys, preferenceKeys } from '@/lib/queryKeys'
import { useUserId } from '@/stores/session'

export type Preferences = components['schemas']['Preferences']

export interface PreferencesChanges {
  mode?: 'secretary' | 'intimate'
  photos_enabled?: boolean
  /** `true` records the 18+ confirmation; `false` withdraws it (and leaves intimate mode). */
  confirm_adult?: boolean
  /** The persona the chat talks as. */
  active_persona_id?: string
}

/** `GET /preferences`. */
export function usePreferences() {
  const userId = useUserId()
  return useQuery({
    queryKey: preferenceKeys.current(userId),
    queryFn: ({ signal }) => unwrap(api.GET('/preferences', { signal })),
  })
}

/** What the API will answer for `changes`, by its rules, to show it before it does. */
export function applyChanges(prefs: Preferences, changes: PreferencesChanges): Preferences {
  const next = { ...prefs }
  if (changes.confirm_adult === true && !next.adult_confirmed) {
    next.adult_confirmed = true
    next.adult_confirmed_at = Date.now()
  } else if (changes.confirm_adult === false) {
    next.adult_confirmed = false
    next.adult_confirmed_at = null
  }
  if (changes.mode) next.mode = changes.mode
  if (!next.adult_confirmed && next.mode === 'intimate') next.mode = 'secretary'
  if (changes.photos_enabled !== undefined) next.photos_enabled = changes.photos_enabled
  if (changes.active_persona_id) next.active_persona_id = changes.active_persona_id
  return next
}

/**
 * `PATCH /preferences`, shown at once (optimistic) and rolled back when the API refuses;
 * the caller shows the mutation's error. The account (`/auth/me`, which carries the
 * preferences) is refreshed after.
 */
export function useUpdatePreferences() {
  const userId = useUserId()
  const queryClient = useQueryClient()
  const key = preferenceKeys.current(userId)
  const mutationKey = [...key, 'update']
  return useMutation({
    mutationKey,
    mutationFn: (changes: PreferencesChanges) =>
      unwrap(api.PATCH('/preferences', { body: changes })),
    onMutate: async (changes) => {
      await queryClient.cancelQueries({ queryKey: key })
      const previous = queryClient.getQueryData<Preferences>(key)
      if (previous) queryClient.setQueryData<Preferences>(key, applyChanges(previous, changes))
      return { previous }
    },
    onError: (_error, _changes, context) => {
      if (context?.previous) queryClient.setQueryData(key, context.previous)
    },
    onSuccess: (prefs) => {
      // Another change still in flight keeps its optimistic value until it settles.
      if (queryClient.isMutating({ mutationKey }) === 1) queryClient.setQueryData(key, prefs)
    },
    onSettled: (_prefs, _error, changes) => {
      // The chat shows the active persona's conversation: another persona, another history.
      if (changes.active_persona_id)
        void queryClient.invalidateQueries({ queryKey: chatKeys.all(userId) })
      if (queryClient.isMutating({ mutationKey }) === 1) {
        void queryClient.invalidateQueries({ queryKey: key })
      }
      void queryClient.invalidateQueries({ queryKey: authKeys.me(userId) })
    },
  })
}
