import { useCallback, useEffect, useState } from 'react'

import { ApiError } from '@/lib/api/errors'

/** Seconds to wait after a 429: `Retry-After`, else the number in the detail, else 30. */
export function waitOf(error: ApiError): number {
  if (error.retryAfter) return Math.ceil(error.retryAfter)
  const said = /(\d+)\s*second/i.exec(error.detail)?.[1]
  return said ? Number(said) : 30
}

/**
 * A refusal for a while (the API's 429): the seconds left, counting down once a second,
 * and `lock(seconds)` to start one. `secondsLeft` is 0 when the user may try again.
 */
export function useRateLimit() {
  const [until, setUntil] = useState<number | null>(null)
  const [now, setNow] = useState(() => Date.now())

  useEffect(() => {
    if (until === null) return
    const tick = window.setInterval(() => {
      const t = Date.now()
      setNow(t)
      if (t >= until) setUntil(null)
    }, 1000)
    return () => window.clearInterval(tick)
  }, [until])

  const lock = useCallback((seconds: number) => {
    const t = Date.now()
    setNow(t)
    setUntil(t + seconds * 1000)
  }, [])

  const secondsLeft = until === null ? 0 : Math.max(0, Math.ceil((until - now) / 1000))
  return { secondsLeft, lock }
}

export function tooManyAttempts(seconds: number): string {
  return `Too many attempts — try again in ${seconds} ${seconds === 1 ? 'second' : 'seconds'}`
}
