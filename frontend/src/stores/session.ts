import { useAuthStore } from './useAuthStore'

/**
 * The signed-in user's id, for query keys. Only pages behind `RequireAuth` call it, so a
 * missing session is a programming error.
 */
export function useUserId(): string {
  const id = useAuthStore((s) => s.user?.id)
  if (!id) throw new Error('useUserId outside a signed-in page')
  return id
}
