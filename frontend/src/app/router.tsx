import { createBrowserRouter, Navigate } from 'react-router'

import { AppShell } from './AppShell'
import { NotFound } from './NotFound'
import { RequireAuth, RedirectIfSignedIn } from './RequireAuth'
import { RouteError } from './RouteError'

// Each feature is its own chunk: the login page does not download the chat, and so on.
// The paths are the host's client routes (`ava serve` answers index.html for exactly these).
export const router = createBrowserRouter([
  {
    errorElement: <RouteError />,
    children: [
      {
        element: <RedirectIfSignedIn />,
        children: [
          {
            path: '/login',
            lazy: async () => ({ Component: (await import('@/features/auth')).LoginPage }),
          },
          {
            path: '/signup',
            lazy: async () => ({ Component: (await import('@/features/auth')).SignupPage }),
          },
        ],
      },
      {
        path: '/admin',
        lazy: async () => ({ Component: (await import('@/features/admin')).AdminPage }),
      },
      {
        element: <RequireAuth />,
        children: [
          {
            path: '/subscribe',
            lazy: async () => ({ Component: (await import('@/features/billing')).SubscribePage }),
          },
          {
            element: <AppShell />,
            children: [
              { path: '/', element: <Navigate to="/chat" replace /> },
              {
                path: '/chat',
                lazy: async () => ({ Component: (await import('@/features/chat')).ChatPage }),
              },
              {
                path: '/gallery',
                lazy: async () => ({ Component: (await import('@/features/photos')).GalleryPage }),
              },
              {
                path: '/personas/:personaId?',
                lazy: async () => ({
                  Component: (await import('@/features/personas')).PersonasPage,
                }),
              },
              {
                path: '/settings',
                lazy: async () => ({
                  Component: (await import('@/features/settings')).SettingsPage,
                }),
              },
            ],
          },
        ],
      },
      { path: '*', element: <NotFound /> },
    ],
  },
])
