import { Navigate, Outlet, useLocation } from 'react-router'

import { useAuthStore } from '@/stores/useAuthStore'

/** Pages for signed-in users; others go to the login page and come back after. */
export function RequireAuth() {
  const token = useAuthStore((s) => s.token)
  const location = useLocation()
  if (!token) {
    const next = `${location.pathname}${location.search}`
    return <Navigate to={`/login?next=${encodeURIComponent(next)}`} replace />
  }
  return <Outlet />
}

/** The login and sign-up pages skip ahead when a session exists. */
export function RedirectIfSignedIn() {
  const token = useAuthStore((s) => s.token)
  const location = useLocation()
  if (token) {
    const next = new URLSearchParams(location.search).get('next')
    // Only a path of this app, never another origin.
    const safe = next && next.startsWith('/') && !next.startsWith('//') ? next : '/chat'
    return <Navigate to={safe} replace />
  }
  return <Outlet />
}
