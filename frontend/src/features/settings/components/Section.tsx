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
      // Focused only when deep-linked: the short highlight shows where the link led, not an outline.
      style={{ outline: 'none' }}
      className="scroll-mt-4 space-y-4 rounded-2xl border border-gray-800 bg-gray-900 p-5 transition-colors duration-700 data-[highlight]:border-purple-500 sm:p-6"
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
