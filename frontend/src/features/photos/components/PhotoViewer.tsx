import { useMutation } from '@tanstack/react-query'
import { Download } from 'lucide-react'

import { Alert } from '@/components/Alert'
import { AuthedImage } from '@/components/AuthedImage'
import { Button } from '@/components/Button'
import { Dialog } from '@/components/Dialog'
import { downloadBlob, fetchBlob } from '@/lib/api/download'
import { messageOf } from '@/lib/api/errors'
import type { Photo } from '../api/photos'

const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })

function extension(contentType: string | null) {
  return contentType === 'image/jpeg' ? 'jpg' : (contentType?.split('/')[1] ?? 'png')
}

/** A photo at full size, with what it shows, when it was taken, and a download. */
export function PhotoViewer({
  photo,
  personaName,
  onClose,
}: {
  photo: Photo | null
  personaName: string
  onClose: () => void
}) {
  const download = useMutation({
    mutationFn: async (shown: Photo) => {
      const blob = await fetchBlob(shown.image_url ?? '')
      downloadBlob(blob, `ava-photo-${shown.id}.${extension(shown.content_type)}`)
    },
  })
  return (
    <Dialog
      open={photo !== null}
      onClose={onClose}
      title={photo?.caption || `A photo from ${personaName}`}
      wide
    >
      {photo?.image_url && (
        <>
          <AuthedImage
            src={photo.image_url}
            alt={photo.caption || photo.prompt}
            className="max-h-[65vh] w-full rounded-xl bg-black object-contain"
          />
          <div className="flex flex-wrap items-center justify-between gap-3 text-sm text-gray-400">
            <p>
              {personaName} · {when.format(photo.created_at)}
            </p>
            <div className="flex gap-2">
              <Button
                variant="secondary"
                busy={download.isPending}
                onClick={() => download.mutate(photo)}
              >
                <Download aria-hidden className="h-4 w-4" />
                Download
              </Button>
              <Button variant="ghost" onClick={onClose}>
                Close
              </Button>
            </div>
          </div>
          {download.error && <Alert>{messageOf(download.error)}</Alert>}
        </>
      )}
    </Dialog>
  )
}
