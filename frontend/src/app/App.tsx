import { QueryClientProvider } from '@tanstack/react-query'
import { useEffect } from 'react'
import { RouterProvider } from 'react-router'

import { queryClient } from '@/lib/queryClient'
import { useAuthStore } from '@/stores/useAuthStore'
import { router } from './router'

/** Whenever the session ends, every cached answer goes with it. */
function useClearCacheOnSignOut() {
  useEffect(
    () =>
      useAuthStore.subscribe((state, previous) => {
        if (previous.token && state.token !== previous.token) queryClient.clear()
      }),
    [],
  )
}

export function App() {
  useClearCacheOnSignOut()
  return (
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  )
}
