import { useInfiniteQuery, type InfiniteData, type QueryClient } from '@tanstack/react-query'

import { api, unwrap } from '@/lib/api/client'
import type { components } from '@/lib/api/schema'
import { chatKeys, photoKeys } from '@/lib/queryKeys'
import { useUserId } from '@/stores/session'

export type Photo = components['schemas']['Photo']
export type PhotoPage = components['schemas']['PhotoPage']
type Conversation = InfiniteData<components['schemas']['MessagePage'], string | null>
type Gallery = InfiniteData<PhotoPage, string | null>

export const PHOTO_PAGE_SIZE = 24

/** The user's photos, newest first, a page at a time. */
export function usePhotos() {
  const userId = useUserId()
  return useInfiniteQuery({
    queryKey: photoKeys.list(userId),
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET('/photos', {
          params: {
            query: { limit: PHOTO_PAGE_SIZE, ...(pageParam ? { before: pageParam } : {}) },
          },
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.next_cursor,
  })
}

/** Every photo of the cached gallery, newest first. */
export function flattenPhotos(data: { pages: PhotoPage[] } | undefined): Photo[] {
  return data ? data.pages.flatMap((page) => page.photos) : []
}

/**
 * Writes a photo's new state (from the live stream) into every cache that shows it: the
 * gallery (put first when it is new) and the chat message that sent it. Nothing is
 * refetched, so a photo turns from placeholder to image without the page moving.
 */
export function applyPhoto(queryClient: QueryClient, userId: string, photo: Photo) {
  queryClient.setQueryData<Gallery>(photoKeys.list(userId), (data) => {
    if (!data) return data
    let found = false
    const pages = data.pages.map((page) => ({
      ...page,
      photos: page.photos.map((p) => {
        if (p.id !== photo.id) return p
        found = true
        return photo
      }),
    }))
    const [first, ...rest] = pages
    if (found || !first) return { ...data, pages }
    return { ...data, pages: [{ ...first, photos: [photo, ...first.photos] }, ...rest] }
  })
  queryClient.setQueriesData<Conversation>({ queryKey: chatKeys.all(userId) }, (data) => {
    if (!data) return data
    let changed = false
    const pages = data.pages.map((page) => ({
      ...page,
      messages: page.messages.map((m) => {
        if (!m.photo || m.photo.id !== photo.id) return m
        changed = true
        return {
          ...m,
          photo: {
            ...m.photo,
            status: photo.status,
            image_url: photo.image_url,
            failure_reason: photo.failure_reason,
            caption: photo.caption ?? m.photo.caption,
          },
        }
      }),
    }))
    return changed ? { ...data, pages } : data
  })
}
