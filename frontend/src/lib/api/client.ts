import createClient, { type Middleware } from 'openapi-fetch'

import { useAuthStore } from '@/stores/useAuthStore'
import { ApiError, errorFromResponse } from './errors'
import type { paths } from './schema'

/** Adds the session's bearer token; a 401 on an authenticated call ends the session. */
const session: Middleware = {
  onRequest({ request }) {
    const token = useAuthStore.getState().token
    if (token && !request.headers.has('Authorization')) {
      request.headers.set('Authorization', `Bearer ${token}`)
    }
    return request
  },
  onResponse({ request, response }) {
    if (response.status === 401 && request.headers.has('Authorization')) {
      const sent = request.headers.get('Authorization')
      if (sent === `Bearer ${useAuthStore.getState().token}`) useAuthStore.getState().signOut()
    }
    return response
  },
}

/** The typed client of Ava's API, generated from its OpenAPI document. */
// `fetch` is looked up on each call, not captured once, so a test's mocked fetch is the one used.
export const api = createClient<paths>({
  baseUrl: globalThis.location?.origin ?? '',
  fetch: (request) => globalThis.fetch(request),
})
api.use(session)

type Result<T> = { data?: T; error?: unknown; response: Response }

/**
 * The data of a call, or a thrown `ApiError` with the API's `detail`. Query and mutation
 * functions wrap every call in it, so errors reach TanStack Query and then the screen.
 */
export async function unwrap<T>(call: Promise<Result<T>>): Promise<T> {
  const { data, error, response } = await call
  if (!response.ok) throw errorFromResponse(response, error)
  return data as T
}

/** The raw `Authorization` header value for calls made outside openapi-fetch (SSE, blobs). */
export function authHeaders(): Record<string, string> {
  const token = useAuthStore.getState().token
  return token ? { Authorization: `Bearer ${token}` } : {}
}

export { ApiError }
