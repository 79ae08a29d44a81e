import { useQueryClient } from '@tanstack/react-query'
import { useEffect } from 'react'

import { isStatus } from '@/lib/api/errors'
import { readEventStream } from '@/lib/api/sse'
import { chatKeys, photoKeys } from '@/lib/queryKeys'
import { useUserId } from '@/stores/session'
import { applyPhoto, type Photo } from '../api/photos'

/** Waits before reconnecting: 1 s, doubling to 30 s, reset once a stream has opened. */
const FIRST_RETRY_MS = 1000
const LAST_RETRY_MS = 30_000

/**
 * Follows `GET /photos/events` while the signed-in app is open: each `photo` event is
 * written into the caches that show that photo; a `resync` event, or a reconnect after
 * the stream dropped (events may have been missed), reads photos and chat again. Stops
 * on 401 (the session ended) and on unmount.
 */
export function usePhotoEvents() {
  const userId = useUserId()
  const queryClient = useQueryClient()

  useEffect(() => {
    const controller = new AbortController()
    let delay = FIRST_RETRY_MS
    let timer: ReturnType<typeof setTimeout> | undefined
    let opened = false

    const resync = () => {
      void queryClient.invalidateQueries({ queryKey: photoKeys.all(userId) })
      void queryClient.invalidateQueries({ queryKey: chatKeys.all(userId) })
    }

    const connect = () => {
      const reconnecting = opened
      readEventStream('/photos/events', {
        signal: controller.signal,
        onEvent: (event) => {
          if (event.event === 'photo') {
            applyPhoto(queryClient, userId, JSON.parse(event.data) as Photo)
          } else if (event.event === 'resync') {
            resync()
          }
        },
        onOpen: () => {
          delay = FIRST_RETRY_MS
          if (reconnecting) resync()
          opened = true
        },
      })
        .catch((error: unknown) => {
          if (isStatus(error, 401)) return 'stop'
        })
        .then((outcome) => {
          if (controller.signal.aborted || outcome === 'stop') return
          timer = setTimeout(connect, delay)
          delay = Math.min(delay * 2, LAST_RETRY_MS)
        })
    }
    connect()
    return () => {
      controller.abort()
      clearTimeout(timer)
    }
  }, [queryClient, userId])
}
