import { AlertTriangle } from 'lucide-react'

import { AuthedImage } from '@/components/AuthedImage'
import { Spinner } from '@/components/Spinner'
import type { Photo } from '../api/photos'

/** One square of the gallery: the image, a placeholder while it is made, or why it failed. */
export function PhotoTile({ photo, onOpen }: { photo: Photo; onOpen: () => void }) {
  const caption = photo.caption || photo.prompt
  if (photo.status === 'ready' && photo.image_url) {
    return (
      <button
        type="button"
        onClick={onOpen}
        aria-label={`Open the photo: ${caption}`}
        className="group relative aspect-[3/4] overflow-hidden rounded-xl bg-gray-900 focus-visible:outline-2 focus-visible:outline-purple-400"
      >
        <AuthedImage
          src={photo.image_url}
          alt={caption}
          loading="lazy"
          className="h-full w-full object-cover transition-transform duration-300 group-hover:scale-105"
        />
        {photo.caption && (
          <span className="absolute inset-x-0 bottom-0 truncate bg-gradient-to-t from-black/80 to-transparent px-2 pt-6 pb-1.5 text-left text-xs text-gray-100">
            {photo.caption}
          </span>
        )}
      </button>
    )
  }
  if (photo.status === 'failed') {
    return (
      <div className="flex aspect-[3/4] flex-col items-center justify-center gap-2 rounded-xl border border-red-900 bg-red-950/30 p-3 text-center text-xs text-red-200">
        <AlertTriangle aria-hidden className="h-5 w-5" />
        <span>
          This photo could not be made{photo.failure_reason ? `: ${photo.failure_reason}` : '.'}
        </span>
      </div>
    )
  }
  return (
    <div
      role="status"
      className="flex aspect-[3/4] flex-col items-center justify-center gap-3 rounded-xl border border-dashed border-purple-700 bg-purple-950/30 p-3 text-center text-xs text-purple-200"
    >
      <Spinner />
      <span>Being created…</span>
    </div>
  )
}
