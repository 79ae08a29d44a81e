import { authHeaders } from './client'
import { errorFromResponse } from './errors'

/** A protected file, fetched with the session's header (never a token in a URL). */
export async function fetchBlob(path: string): Promise<Blob> {
  const response = await fetch(path, { headers: authHeaders() })
  if (!response.ok) {
    const body: unknown = await response.json().catch(() => undefined)
    throw errorFromResponse(response, body)
  }
  return response.blob()
}

/** Saves `blob` as a file through a temporary object URL. */
export function downloadBlob(blob: Blob, filename: string) {
  const url = URL.createObjectURL(blob)
  const link = document.createElement('a')
  link.href = url
  link.download = filename
  document.body.append(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}
