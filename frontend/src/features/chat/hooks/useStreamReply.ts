import { useQueryClient } from '@tanstack/react-query'
import { useCallback, useRef, useState } from 'react'

import { ApiError } from '@/lib/api/errors'
import type { components } from '@/lib/api/schema'
import { readEventStream } from '@/lib/api/sse'
import { chatKeys } from '@/lib/queryKeys'
import { useUserId } from '@/stores/session'
import { appendTurn, type Conversation, type Turn } from '../api/messages'

type Delta = components['schemas']['ChatStreamDelta']
type StreamError = components['schemas']['ChatStreamError']

/** The turn being written: the user's message, shown at once, and the reply so far. */
export interface InFlight {
  message: string
  reply: string
}

/**
 * Sends a message through `POST /chat/stream` and writes the result into the chat's cache:
 * the deltas grow `inFlight.reply` as they arrive, and the stored turn replaces it on
 * `done`. `stop()` aborts the stream; the host stores the whole reply anyway, so the
 * conversation is read again. Rejects with an `ApiError` when the turn was refused or failed.
 */
export function useStreamReply() {
  const userId = useUserId()
  const queryClient = useQueryClient()
  const [inFlight, setInFlight] = useState<InFlight | null>(null)
  const abort = useRef<AbortController | null>(null)

  const send = useCallback(
    async (message: string) => {
      const controller = new AbortController()
      abort.current = controller
      setInFlight({ message, reply: '' })
      let turn: Turn | null = null
      let failure: ApiError | null = null
      try {
        await readEventStream('/chat/stream', {
          method: 'POST',
          body: { message },
          signal: controller.signal,
          onEvent: (event) => {
            if (event.event === 'delta') {
              const { text } = JSON.parse(event.data) as Delta
              setInFlight((f) => (f ? { ...f, reply: f.reply + text } : f))
            } else if (event.event === 'done') {
              turn = JSON.parse(event.data) as Turn
            } else if (event.event === 'error') {
              const { detail, status, retry_after } = JSON.parse(event.data) as StreamError
              failure = new ApiError(status, detail, undefined, retry_after ?? undefined)
            }
          },
        })
      } catch (error) {
        if (controller.signal.aborted) {
          await queryClient.invalidateQueries({ queryKey: chatKeys.all(userId) })
          setInFlight(null)
          return
        }
        setInFlight(null)
        throw error
      } finally {
        abort.current = null
      }
      if (turn) {
        queryClient.setQueryData<Conversation>(chatKeys.messages(userId, null), (data) =>
          appendTurn(data, turn as Turn),
        )
        setInFlight(null)
        return
      }
      setInFlight(null)
      throw failure ?? new ApiError(500, 'The reply was interrupted; try again.')
    },
    [queryClient, userId],
  )

  const stop = useCallback(() => abort.current?.abort(), [])
  return { send, stop, inFlight, streaming: inFlight !== null }
}
