import { QueryClientProvider } from '@tanstack/react-query'
import { render, type RenderResult } from '@testing-library/react'
import type { ReactElement } from 'react'
import { createMemoryRouter, RouterProvider, type RouteObject } from 'react-router'

import { makeQueryClient } from '@/lib/queryClient'
import { useAuthStore } from '@/stores/useAuthStore'

export const testUser = {
  id: 'user-1',
  email: 'ava-fan@example.com',
  display_name: 'Sam',
  created_at: 1_700_000_000_000,
}

/** Signs the test user in, as after a login. */
export function signIn(token = 'test-token') {
  useAuthStore.getState().signIn(token, testUser)
}

/**
 * Renders `element` at `path` inside a router and a fresh query client (no retries, so an
 * error shows at once). `routes` adds the pages a link may lead to.
 */
export function renderPage(
  element: ReactElement,
  {
    path = '/',
    url = path,
    routes = [],
  }: { path?: string; url?: string; routes?: RouteObject[] } = {},
): RenderResult & { router: ReturnType<typeof createMemoryRouter> } {
  const client = makeQueryClient()
  client.setDefaultOptions({
    queries: { retry: false, staleTime: Infinity },
    mutations: { retry: false },
  })
  const router = createMemoryRouter([{ path, element }, ...routes], { initialEntries: [url] })
  const result = render(
    <QueryClientProvider client={client}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  )
  return { ...result, router }
}
