import { screen, waitFor, within } from '@testing-library/react'
import { http, HttpResponse } from 'msw'
import { beforeEach, describe, expect, it } from 'vitest'

import { ChatPage } from '@/features/chat/components/ChatPage'
import { eventStream, message, photo, serveSignedInBasics } from '@/test/fixtures'
import { renderPage, signIn } from '@/test/render'
import { server } from '@/test/server'
import { GalleryPage } from '../components/GalleryPage'
import { usePhotoEvents } from './usePhotoEvents'

function Live({ children }: { children: React.ReactNode }) {
  usePhotoEvents()
  return children
}

const pending = photo({ id: 'p-1', status: 'pending', caption: 'At the beach' })
const ready = {
  ...pending,
  status: 'ready',
  image_url: '/photos/p-1/image',
  content_type: 'image/png',
}

beforeEach(() => {
  signIn()
  serveSignedInBasics()
  server.use(
    http.get('*/photos/p-1/image', () =>
      HttpResponse.arrayBuffer(new Uint8Array([137, 80, 78, 71]).buffer, {
        headers: { 'Content-Type': 'image/png' },
      }),
    ),
  )
})

describe('usePhotoEvents', () => {
  it('turns the pending photo of a chat reply into the image when its event arrives', async () => {
    const events = eventStream()
    server.use(
      http.get('*/photos/events', () => events.response()),
      http.get('*/messages', () =>
        HttpResponse.json({
          persona_id: 'persona-ava',
          next_cursor: null,
          messages: [
            message({
              role: 'assistant',
              content: 'Here is one from the beach',
              photo: {
                id: 'p-1',
                status: 'pending',
                caption: 'At the beach',
                image_url: null,
                failure_reason: null,
                prompt: null,
              },
            }),
          ],
        }),
      ),
    )
    renderPage(
      <Live>
        <ChatPage />
      </Live>,
      { path: '/chat' },
    )
    expect(await screen.findByText('Taking a photo…')).toBeInTheDocument()
    events.send('photo', ready)
    const log = screen.getByRole('log')
    const image = await within(log).findByRole('img', { name: 'At the beach' })
    expect(image).toHaveAttribute('src', expect.stringMatching(/^blob:/))
    expect(screen.queryByText('Taking a photo…')).not.toBeInTheDocument()
  })

  it('adds the ready photo to the gallery without a reload, and lists again on resync', async () => {
    const events = eventStream()
    let lists = 0
    server.use(
      http.get('*/photos/events', () => events.response()),
      http.get('*/photos', () => {
        lists += 1
        return HttpResponse.json({ photos: [pending], next_cursor: null })
      }),
    )
    renderPage(
      <Live>
        <GalleryPage />
      </Live>,
      { path: '/gallery' },
    )
    expect(await screen.findByText('Being created…')).toBeInTheDocument()
    events.send('photo', ready)
    expect(
      await screen.findByRole('button', { name: 'Open the photo: At the beach' }),
    ).toBeInTheDocument()
    expect(screen.queryByText('Being created…')).not.toBeInTheDocument()
    expect(lists).toBe(1)

    events.send('resync', {})
    await waitFor(() => expect(lists).toBe(2))
  })

  it('connects again after the stream drops and reads the photos again', async () => {
    let connections = 0
    let lists = 0
    server.use(
      http.get('*/photos/events', () => {
        connections += 1
        const events = eventStream()
        // The first stream opens and drops at once; the second stays open.
        if (connections === 1) queueMicrotask(() => events.end())
        return events.response()
      }),
      http.get('*/photos', () => {
        lists += 1
        return HttpResponse.json({ photos: [pending], next_cursor: null })
      }),
    )
    renderPage(
      <Live>
        <GalleryPage />
      </Live>,
      { path: '/gallery' },
    )
    await screen.findByText('Being created…')
    await waitFor(() => expect(connections).toBe(2), { timeout: 3000 })
    await waitFor(() => expect(lists).toBe(2))
  })
})
