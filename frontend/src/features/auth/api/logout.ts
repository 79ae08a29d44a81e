import { useMutation } from '@tanstack/react-query'
import { useNavigate } from 'react-router'

import { api, unwrap } from '@/lib/api/client'
import { useAuthStore } from '@/stores/useAuthStore'

/**
 * Ends the session: tells the API (so the token stops working), then forgets it here and
 * goes to the login page. A failed call still ends the local session, since a user who
 * asked to log out must be logged out. The app clears the query cache on sign-out.
 */
export function useLogout() {
  const navigate = useNavigate()
  const mutation = useMutation({
    mutationFn: async () => {
      try {
        await unwrap(api.POST('/auth/logout'))
      } catch {
        // The token may already be revoked or the network down: the local session ends anyway.
      }
    },
    onSettled: () => {
      useAuthStore.getState().signOut()
      void navigate('/login', { replace: true })
    },
  })
  return { logout: () => mutation.mutate(), isPending: mutation.isPending }
}
