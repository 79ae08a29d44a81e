import type { ReactNode } from 'react'

/** One settings card; `id` is its deep link (`/settings#companion`). */
export function Section({
  id,
  title,
  description,
  children,
}: {
  id: string
  title: string
  description?: string
  children: ReactNode
}) {
  return (
    <section
      id={id}
      tabIndex={-1}
      aria-labelledby={`${id}-title`}
      className="scroll-mt-4 space-y-4 rounded-2xl border border-gray-800 bg-gray-900 p-5 focus:outline-none sm:p-6"
    >
      <div className="space-y-1">
        <h2 id={`${id}-title`} className="text-base font-semibold text-white">
          {title}
        </h2>
        {description && <p className="text-sm text-gray-400">{description}</p>}
      </div>
      {children}
    </section>
  )
}
