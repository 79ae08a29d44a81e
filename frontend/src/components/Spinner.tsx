export function Spinner({ size = 'md', label }: { size?: 'sm' | 'md' | 'lg'; label?: string }) {
  const px = { sm: 'h-4 w-4 border-2', md: 'h-6 w-6 border-2', lg: 'h-10 w-10 border-[3px]' }[size]
  return (
    <span
      role={label ? 'status' : undefined}
      aria-label={label}
      aria-hidden={label ? undefined : true}
      className={`inline-block animate-spin rounded-full border-current border-r-transparent ${px}`}
    />
  )
}

/** A centred spinner for a page or panel whose query is loading. */
export function Loading({ label = 'Loading' }: { label?: string }) {
  return (
    <div className="flex flex-1 items-center justify-center p-8 text-purple-300">
      <Spinner size="lg" label={label} />
    </div>
  )
}
