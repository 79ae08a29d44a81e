import { Image, MessageCircle, Settings, Users } from 'lucide-react'
import { NavLink, Outlet } from 'react-router'

import { CheckoutReturn } from '@/features/billing'
import { usePhotoEvents } from '@/features/photos'

const links = [
  { to: '/chat', label: 'Chat', icon: MessageCircle },
  { to: '/gallery', label: 'Photos', icon: Image },
  { to: '/personas', label: 'Personas', icon: Users },
  { to: '/settings', label: 'Settings', icon: Settings },
]

/**
 * The signed-in app: a top bar on desktop, a tab bar at the bottom on phones, and the live
 * photo stream that keeps every cached photo current while any page is open.
 */
export function AppShell() {
  usePhotoEvents()
  return (
    <div className="flex h-full flex-col">
      <a
        href="#main"
        className="sr-only z-50 rounded bg-purple-600 px-3 py-2 focus:not-sr-only focus:absolute focus:top-2 focus:left-2"
      >
        Skip to content
      </a>
      <header className="hidden border-b border-gray-800 bg-gray-950/95 md:block">
        <nav aria-label="Main" className="mx-auto flex max-w-6xl items-center gap-2 px-4 py-2">
          <span className="mr-4 bg-gradient-to-r from-purple-400 to-pink-400 bg-clip-text text-xl font-bold text-transparent">
            Ava
          </span>
          {links.map(({ to, label, icon: Icon }) => (
            <NavLink
              key={to}
              to={to}
              className={({ isActive }) =>
                `flex items-center gap-2 rounded-lg px-3 py-2 text-sm font-medium ${isActive ? 'bg-gray-800 text-white' : 'text-gray-400 hover:text-white'}`
              }
            >
              <Icon aria-hidden className="h-4 w-4" />
              {label}
            </NavLink>
          ))}
        </nav>
      </header>
      <CheckoutReturn />
      <main id="main" className="flex min-h-0 flex-1 flex-col">
        <Outlet />
      </main>
      <nav
        aria-label="Main"
        className="grid grid-cols-4 border-t border-gray-800 bg-gray-950 pb-[env(safe-area-inset-bottom)] md:hidden"
      >
        {links.map(({ to, label, icon: Icon }) => (
          <NavLink
            key={to}
            to={to}
            className={({ isActive }) =>
              `flex flex-col items-center gap-0.5 py-2 text-xs ${isActive ? 'text-purple-300' : 'text-gray-400'}`
            }
          >
            <Icon aria-hidden className="h-5 w-5" />
            {label}
          </NavLink>
        ))}
      </nav>
    </div>
  )
}
