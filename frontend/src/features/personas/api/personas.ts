import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'

import { api, unwrap } from '@/lib/api/client'
import { downloadBlob, fetchBlob } from '@/lib/api/download'
import type { components } from '@/lib/api/schema'
import { chatKeys, personaKeys, preferenceKeys } from '@/lib/queryKeys'
import { useUserId } from '@/stores/session'

export type Persona = components['schemas']['Persona']
export type PersonaFields = components['schemas']['PersonaFields']

export function usePersonas() {
  const userId = useUserId()
  return useQuery({
    queryKey: personaKeys.list(userId),
    queryFn: async () => (await unwrap(api.GET('/avatars'))).avatars,
  })
}

function useInvalidatePersonas() {
  const userId = useUserId()
  const queryClient = useQueryClient()
  return (alsoChat = false) => {
    void queryClient.invalidateQueries({ queryKey: personaKeys.all(userId) })
    if (alsoChat) {
      void queryClient.invalidateQueries({ queryKey: preferenceKeys.current(userId) })
      void queryClient.invalidateQueries({ queryKey: chatKeys.all(userId) })
    }
  }
}

export function useSavePersona() {
  const invalidate = useInvalidatePersonas()
  return useMutation({
    mutationFn: ({ id, fields }: { id: string | null; fields: PersonaFields }) =>
      id
        ? unwrap(api.PUT('/avatars/{id}', { params: { path: { id } }, body: fields }))
        : unwrap(api.POST('/avatars', { body: fields })),
    onSuccess: () => invalidate(true),
  })
}

export function useDeletePersona() {
  const invalidate = useInvalidatePersonas()
  return useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE('/avatars/{id}', { params: { path: { id } } })),
    onSuccess: () => invalidate(true),
  })
}

/** The largest PNG card the API takes (`cards::MAX_PNG_BYTES`). */
export const MAX_CARD_BYTES = 20 * 1024 * 1024

/** Imports a Character Card file (JSON or PNG) as it is, bytes untouched. */
export function useImportCard() {
  const invalidate = useInvalidatePersonas()
  return useMutation({
    mutationFn: async (file: File) => {
      if (file.size > MAX_CARD_BYTES) {
        throw new Error(
          `That file is ${(file.size / 1048576).toFixed(1)} MB; cards up to 20 MB can be imported.`,
        )
      }
      const png = file.type === 'image/png' || file.name.toLowerCase().endsWith('.png')
      const bytes = await file.arrayBuffer()
      return unwrap(
        api.POST('/avatars/import', {
          body: bytes as never,
          bodySerializer: (body: unknown) => body as ArrayBuffer,
          headers: { 'Content-Type': png ? 'image/png' : 'application/json' },
        }),
      )
    },
    onSuccess: () => invalidate(),
  })
}

/** Downloads a persona's card (JSON v3/v2 or PNG) with the session's header. */
export function useExportCard() {
  return useMutation({
    mutationFn: async ({ persona, format }: { persona: Persona; format: 'v3' | 'v2' | 'png' }) => {
      const blob = await fetchBlob(
        `/avatars/${encodeURIComponent(persona.id)}/export?format=${format}`,
      )
      const stem = persona.name.replace(/[^\w-]+/g, '_') || 'persona'
      downloadBlob(blob, `${stem}${format === 'png' ? '.png' : `.${format}.json`}`)
    },
  })
}
