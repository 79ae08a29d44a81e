/**
 * Every failed API call becomes an `ApiError` carrying the status and the API's `detail`
 * (and `field` for a 422 validation error), so each screen can show the user what went wrong.
 */
export class ApiError extends Error {
  readonly status: number
  readonly detail: string
  readonly field: string | undefined
  /** Seconds, from the Retry-After header of a 429 or 503. */
  readonly retryAfter: number | undefined

  constructor(status: number, detail: string, field?: string, retryAfter?: number) {
    super(detail)
    this.name = 'ApiError'
    this.status = status
    this.detail = detail
    this.field = field
    this.retryAfter = retryAfter
  }
}

/** What the API answers on failure: `{"detail": "...", "field"?: "..."}`. */
interface ErrorBodyLike {
  detail?: unknown
  field?: unknown
}

const fallbackDetail: Record<number, string> = {
  401: 'Please log in again.',
  402: 'Subscription required',
  404: 'Not found',
  413: 'That is too large.',
  429: 'Too many requests; try again shortly.',
  500: 'The server failed; try again.',
  502: 'A service Ava relies on failed; try again.',
  503: 'Ava is busy or a service is down; try again shortly.',
  504: 'That took too long; try again.',
}

/** The error a failed response stands for; `body` is its parsed JSON, if any. */
export function errorFromResponse(response: Response, body: unknown): ApiError {
  const parsed = (typeof body === 'object' && body !== null ? body : {}) as ErrorBodyLike
  const detail =
    typeof parsed.detail === 'string' && parsed.detail.trim() !== ''
      ? parsed.detail
      : (fallbackDetail[response.status] ?? `Request failed (${response.status})`)
  const field = typeof parsed.field === 'string' ? parsed.field : undefined
  const retry = Number(response.headers.get('retry-after'))
  return new ApiError(
    response.status,
    detail,
    field,
    Number.isFinite(retry) && retry > 0 ? retry : undefined,
  )
}

/** A message for the user, whatever was thrown. A 503 that says how long to wait says so. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 503 && error.retryAfter !== undefined) {
      const seconds = Math.ceil(error.retryAfter)
      const sentence = /[.!?]$/.test(error.detail) ? error.detail : `${error.detail}.`
      return `${sentence} Try again in ${seconds} second${seconds === 1 ? '' : 's'}.`
    }
    return error.detail
  }
  if (error instanceof DOMException && error.name === 'AbortError') return 'Stopped.'
  if (error instanceof TypeError) return 'Cannot reach Ava; check your connection and try again.'
  if (error instanceof Error && error.message) return error.message
  return 'Something went wrong.'
}

/** The validation message for one field of a 422, without the `field: ` prefix. */
export function fieldError(error: unknown, field: string): string | undefined {
  if (!(error instanceof ApiError) || error.status !== 422 || error.field !== field) {
    return undefined
  }
  const prefix = `${field}: `
  return error.detail.startsWith(prefix) ? error.detail.slice(prefix.length) : error.detail
}

export function isStatus(error: unknown, status: number): error is ApiError {
  return error instanceof ApiError && error.status === status
}
