/**
 * Where to go after signing in: the `next` parameter when it is a path of this app (never
 * another origin, `//evil.example` or `/\evil.example` included), else the chat.
 */
export function safeNext(next: string | null | undefined): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) {
    return '/chat'
  }
  try {
    const url = new URL(next, window.location.origin)
    if (url.origin !== window.location.origin) return '/chat'
    return `${url.pathname}${url.search}${url.hash}`
  } catch {
    return '/chat'
  }
}

/** The `?next=` suffix to carry between the login and sign-up pages. */
export function nextQuery(next: string | null): string {
  return next ? `?next=${encodeURIComponent(next)}` : ''
}
