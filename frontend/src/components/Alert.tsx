import type { ReactNode } from 'react'

type Tone = 'error' | 'warning' | 'info' | 'success'

const tones: Record<Tone, string> = {
  error: 'border-red-700 bg-red-950/60 text-red-200',
  warning: 'border-yellow-600 bg-yellow-900/50 text-yellow-200',
  info: 'border-purple-700 bg-purple-950/50 text-purple-100',
  success: 'border-emerald-700 bg-emerald-950/50 text-emerald-200',
}

/** A message for the user; errors are announced to screen readers at once. */
export function Alert({
  tone = 'error',
  children,
  action,
  className = '',
}: {
  tone?: Tone
  children: ReactNode
  action?: ReactNode
  className?: string
}) {
  return (
    <div
      role={tone === 'error' ? 'alert' : 'status'}
      className={`flex flex-wrap items-center justify-between gap-3 rounded-lg border p-3 text-sm ${tones[tone]} ${className}`}
    >
      <div className="min-w-0 flex-1">{children}</div>
      {action}
    </div>
  )
}
