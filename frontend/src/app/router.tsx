import { createBrowserRouter, Navigate } from 'react-router'

import { Loading } from '@/components/Spinner'

import { NotFound } from './NotFound'
import { RequireAuth, RedirectIfSignedIn } from './RequireAuth'
import { RouteError } from './RouteError'

// Each page is its own chunk, imported by its own module (not the feature's index, which
// other chunks import too): the login page does not download the chat, and so on.
// The paths are the host's client routes (`ava serve` answers index.html for exactly these).
export const router = createBrowserRouter([
  {
    errorElement: <RouteError />,
    // Shown while the first page's chunk loads.
    hydrateFallbackElement: <Loading label="Loading Ava" />,
    children: [
      {
        element: <RedirectIfSignedIn />,
        children: [
          {
            path: '/login',
            lazy: async () => ({
              Component: (await import('@/features/auth/components/LoginPage')).LoginPage,
            }),
          },
          {
            path: '/signup',
            lazy: async () => ({
              Component: (await import('@/features/auth/components/SignupPage')).SignupPage,
            }),
          },
        ],
      },
      {
        path: '/admin',
        lazy: async () => ({
          Component: (await import('@/features/admin/components/AdminPage')).AdminPage,
        }),
      },
      {
        element: <RequireAuth />,
        children: [
          {
            path: '/subscribe',
            lazy: async () => ({
              Component: (await import('@/features/billing/components/SubscribePage'))
                .SubscribePage,
            }),
          },
          {
            lazy: async () => ({ Component: (await import('./AppShell')).AppShell }),
            children: [
              { path: '/', element: <Navigate to="/chat" replace /> },
              {
                path: '/chat',
                lazy: async () => ({
                  Component: (await import('@/features/chat/components/ChatPage')).ChatPage,
                }),
              },
              {
                path: '/gallery',
                lazy: async () => ({
                  Component: (await import('@/features/photos/components/GalleryPage')).GalleryPage,
                }),
              },
              {
                path: '/personas/:personaId?',
                lazy: async () => ({
                  Component: (await import('@/features/personas/components/PersonasPage'))
                    .PersonasPage,
                }),
              },
              {
                path: '/settings',
                lazy: async () => ({
                  Component: (await import('@/features/settings/components/SettingsPage'))
                    .SettingsPage,
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
