import { authHeaders } from './client'
import { errorFromResponse } from './errors'

/**
 * An image the API protects (a photo, a portrait), fetched with the bearer token in a header
 * and shown from a `blob:` URL. The token never goes into a URL, so it never reaches a log
 * line, the browser history or a Referer header. The API marks these images
 * `private, immutable`, so the browser's own cache answers a second fetch.
 */
export async function fetchImageBlob(url: string, signal?: AbortSignal): Promise<Blob> {
  const response = await fetch(url, { headers: authHeaders(), signal })
  if (!response.ok) {
    const body: unknown = await response.json().catch(() => undefined)
    throw errorFromResponse(response, body)
  }
  return response.blob()
}
