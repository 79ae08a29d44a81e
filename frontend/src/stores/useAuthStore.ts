import { create } from 'zustand'
import { createJSONStorage, persist } from 'zustand/middleware'

import type { components } from '@/lib/api/schema'

type User = components['schemas']['User']

/**
 * The session: what the server does not know about the browser (the bearer token and who it
 * belongs to). Server state lives in TanStack Query, never here.
 */
interface AuthState {
  token: string | null
  user: User | null
  signIn: (token: string, user: User) => void
  /** Forgets the session locally (the caller clears the query cache). */
  signOut: () => void
}

export const useAuthStore = create<AuthState>()(
  persist(
    (set) => ({
      token: null,
      user: null,
      signIn: (token, user) => set({ token, user }),
      signOut: () => set({ token: null, user: null }),
    }),
    { name: 'ava.session', storage: createJSONStorage(() => localStorage) },
  ),
)

/** The operator token of the dashboard: kept for this tab only, never with the user session. */
interface OperatorState {
  token: string | null
  setToken: (token: string | null) => void
}

export const useOperatorStore = create<OperatorState>()(
  persist(
    (set) => ({
      token: null,
      setToken: (token) => set({ token }),
    }),
    { name: 'ava.operator', storage: createJSONStorage(() => sessionStorage) },
  ),
)
