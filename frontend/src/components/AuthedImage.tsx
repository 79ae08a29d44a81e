import { useQuery } from '@tanstack/react-query'
import { useEffect, useState, type ImgHTMLAttributes } from 'react'

import { fetchImageBlob } from '@/lib/api/images'
import { messageOf } from '@/lib/api/errors'
import { photoKeys } from '@/lib/queryKeys'
import { useUserId } from '@/stores/session'
import { Spinner } from './Spinner'

/** An image behind the API's auth (see `fetchImageBlob`), with loading and error states. */
export function AuthedImage({
  src,
  alt,
  className = '',
  ...rest
}: { src: string; alt: string } & Omit<ImgHTMLAttributes<HTMLImageElement>, 'src'>) {
  const userId = useUserId()
  const blob = useQuery({
    queryKey: photoKeys.image(userId, src),
    queryFn: ({ signal }) => fetchImageBlob(src, signal),
    staleTime: Infinity,
  })
  const [url, setUrl] = useState<string | null>(null)
  useEffect(() => {
    if (!blob.data) return
    // The object URL is a resource outside React: made and revoked by the same effect, so
    // every URL made is revoked once (StrictMode's double mount included).
    const objectUrl = URL.createObjectURL(blob.data)
    // eslint-disable-next-line react-hooks/set-state-in-effect
    setUrl(objectUrl)
    return () => URL.revokeObjectURL(objectUrl)
  }, [blob.data])

  if (blob.isError) {
    return (
      <div
        role="img"
        aria-label={`${alt} (could not load: ${messageOf(blob.error)})`}
        className={`flex items-center justify-center bg-gray-900 p-3 text-center text-xs text-red-300 ${className}`}
      >
        Could not load the image: {messageOf(blob.error)}
      </div>
    )
  }
  if (!url) {
    return (
      <div
        role="img"
        aria-label={`${alt} (loading)`}
        className={`flex items-center justify-center bg-gray-900 text-purple-300 ${className}`}
      >
        <Spinner />
      </div>
    )
  }
  return <img src={url} alt={alt} className={className} {...rest} />
}
