import { createParser, type EventSourceMessage } from 'eventsource-parser'

import { authHeaders } from './client'
import { errorFromResponse } from './errors'

export interface StreamOptions {
  method?: 'GET' | 'POST'
  body?: unknown
  signal?: AbortSignal
  onEvent: (event: EventSourceMessage) => void
  /** Called once the server has accepted the stream, before the first event. */
  onOpen?: () => void
}

/**
 * Reads a server-sent event stream with the session's bearer token. `EventSource` cannot
 * send an Authorization header (the token would have to go in the URL, and from there into
 * logs and history), so the stream is read with fetch. A refusal before the stream starts
 * (402, 403, 422, ...) throws an `ApiError` like any other call. Resolves when the stream ends.
 */
export async function readEventStream(path: string, options: StreamOptions): Promise<void> {
  const headers: Record<string, string> = { Accept: 'text/event-stream', ...authHeaders() }
  if (options.body !== undefined) headers['Content-Type'] = 'application/json'
  const response = await fetch(path, {
    method: options.method ?? 'GET',
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.signal,
    cache: 'no-store',
  })
  if (!response.ok || !response.body) {
    const body: unknown = await response.json().catch(() => undefined)
    throw errorFromResponse(response, body)
  }
  options.onOpen?.()
  const parser = createParser({ onEvent: options.onEvent })
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return
    parser.feed(value)
  }
}
