import type { ReactNode } from 'react'

/** The frame of the login and sign-up pages: the Ava brand over a centred card. */
export function AuthCard({
  title,
  subtitle,
  children,
  footer,
}: {
  title: string
  subtitle: string
  children: ReactNode
  footer: ReactNode
}) {
  return (
    <main className="flex min-h-full flex-col items-center justify-center bg-gray-950 px-4 py-10">
      <title>{`${title} · Ava`}</title>
      <div className="w-full max-w-sm space-y-6">
        <div className="text-center">
          <p className="bg-gradient-to-r from-purple-400 to-pink-400 bg-clip-text text-4xl font-bold tracking-tight text-transparent">
            Ava
          </p>
          <p className="mt-1 text-sm text-gray-400">Your AI companion</p>
        </div>
        <section
          aria-labelledby="auth-title"
          className="space-y-6 rounded-2xl border border-gray-800 bg-gray-900 p-6 shadow-xl shadow-black/30 sm:p-8"
        >
          <div className="space-y-1">
            <h1 id="auth-title" className="text-xl font-semibold text-white">
              {title}
            </h1>
            <p className="text-sm text-gray-400">{subtitle}</p>
          </div>
          {children}
        </section>
        <p className="text-center text-sm text-gray-400">{footer}</p>
      </div>
    </main>
  )
}
