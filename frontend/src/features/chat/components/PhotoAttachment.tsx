import { AlertTriangle } from 'lucide-react'
import { useState } from 'react'
import { Link } from 'react-router'

import { AuthedImage } from '@/components/AuthedImage'
import { Dialog } from '@/components/Dialog'
import { Spinner } from '@/components/Spinner'
import type { Message } from '../api/messages'

type Photo = NonNullable<Message['photo']>

/** The photo a reply sends: a placeholder while it is made, the image, or why it failed. */
export function PhotoAttachment({ photo }: { photo: Photo }) {
  const [open, setOpen] = useState(false)
  const caption = photo.caption ?? 'A photo'
  if (photo.status === 'ready' && photo.image_url) {
    return (
      <>
        <button
          type="button"
          onClick={() => setOpen(true)}
          className="mt-2 block overflow-hidden rounded-xl"
          aria-label={`Open the photo: ${caption}`}
        >
          <AuthedImage src={photo.image_url} alt={caption} className="h-64 w-48 object-cover" />
        </button>
        <Dialog open={open} onClose={() => setOpen(false)} title={caption} wide>
          <AuthedImage
            src={photo.image_url}
            alt={caption}
            className="max-h-[70vh] w-full rounded-xl object-contain"
          />
          <div className="flex justify-between">
            <Link to="/gallery" className="text-sm text-purple-300 underline">
              All photos
            </Link>
            <button type="button" onClick={() => setOpen(false)} className="text-sm text-gray-300">
              Close
            </button>
          </div>
        </Dialog>
      </>
    )
  }
  if (photo.status === 'failed') {
    return (
      <div className="mt-2 flex items-start gap-2 rounded-xl border border-red-900 bg-red-950/40 p-3 text-xs text-red-200">
        <AlertTriangle className="h-4 w-4 shrink-0" aria-hidden />
        <span>
          The photo could not be made{photo.failure_reason ? `: ${photo.failure_reason}` : '.'}
        </span>
      </div>
    )
  }
  return (
    <div
      role="status"
      className="mt-2 flex h-64 w-48 flex-col items-center justify-center gap-3 rounded-xl border border-dashed border-purple-700 bg-purple-950/30 p-3 text-center text-xs text-purple-200"
    >
      <Spinner />
      <span>Taking a photo…</span>
      {photo.caption && <span className="text-purple-300/70">{photo.caption}</span>}
    </div>
  )
}
