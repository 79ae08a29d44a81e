import { ImageIcon } from 'lucide-react'
import { useEffect, useRef, useState } from 'react'
import { Link } from 'react-router'

import { Button } from '@/components/Button'
import { QueryError } from '@/components/QueryError'
import { Loading, Spinner } from '@/components/Spinner'
import { usePersonas } from '@/features/personas'
import { flattenPhotos, usePhotos } from '../api/photos'
import { PhotoTile } from './PhotoTile'
import { PhotoViewer } from './PhotoViewer'

/** Every photo the user's companions sent, newest first; pending ones turn into images live. */
export function GalleryPage() {
  const photos = usePhotos()
  const personas = usePersonas()
  const [openId, setOpenId] = useState<string | null>(null)
  const more = useRef<HTMLDivElement>(null)
  const all = flattenPhotos(photos.data)
  const open = all.find((p) => p.id === openId) ?? null
  const nameOf = (personaId: string) =>
    personas.data?.find((p) => p.id === personaId)?.name ?? 'Ava'

  const { hasNextPage, isFetchingNextPage, fetchNextPage } = photos
  useEffect(() => {
    const sentinel = more.current
    if (!sentinel || !hasNextPage) return
    const observer = new IntersectionObserver(
      ([entry]) => {
        if (entry?.isIntersecting && !isFetchingNextPage) void fetchNextPage()
      },
      { rootMargin: '400px' },
    )
    observer.observe(sentinel)
    return () => observer.disconnect()
  }, [hasNextPage, isFetchingNextPage, fetchNextPage])

  return (
    <div className="min-h-0 flex-1 overflow-y-auto">
      <div className="mx-auto max-w-6xl space-y-4 px-4 py-6">
        <div className="flex items-baseline justify-between gap-3">
          <h1 className="text-xl font-bold">Photos</h1>
          {photos.isSuccess && all.length > 0 && (
            <p className="text-sm text-gray-400">
              {all.length}
              {hasNextPage ? '+' : ''} {all.length === 1 ? 'photo' : 'photos'}
            </p>
          )}
        </div>
        {photos.isPending && <Loading label="Loading your photos" />}
        {photos.isError && !photos.data && (
          <QueryError error={photos.error} retry={() => void photos.refetch()} />
        )}
        {photos.isSuccess && all.length === 0 && (
          <div className="mx-auto mt-16 max-w-sm space-y-3 text-center text-gray-400">
            <ImageIcon aria-hidden className="mx-auto h-10 w-10 text-purple-400" />
            <p className="text-lg font-semibold text-gray-200">No photos yet</p>
            <p className="text-sm">
              Ask your companion for a photo in the chat, and it will be kept here.
            </p>
            <Link to="/chat" className="inline-block text-sm font-medium text-purple-300 underline">
              Go to the chat
            </Link>
          </div>
        )}
        {all.length > 0 && (
          <ul
            aria-label="Your photos"
            className="grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-4"
          >
            {all.map((photo) => (
              <li key={photo.id}>
                <PhotoTile photo={photo} onOpen={() => setOpenId(photo.id)} />
              </li>
            ))}
          </ul>
        )}
        <div ref={more} />
        {isFetchingNextPage && (
          <div className="flex justify-center text-purple-300">
            <Spinner label="Loading more photos" />
          </div>
        )}
        {hasNextPage && !isFetchingNextPage && (
          <div className="flex justify-center">
            <Button variant="secondary" onClick={() => void fetchNextPage()}>
              Show older photos
            </Button>
          </div>
        )}
        {photos.isFetchNextPageError && (
          <QueryError error={photos.error} retry={() => void fetchNextPage()} />
        )}
      </div>
      <PhotoViewer
        photo={open}
        personaName={open ? nameOf(open.persona_id) : 'Ava'}
        onClose={() => setOpenId(null)}
      />
    </div>
  )
}
