import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { http, HttpResponse } from 'msw'
import { beforeEach, describe, expect, it } from 'vitest'

import { eventStream, message, photo, serveSignedInBasics } from '@/test/fixtures'
import { renderPage, signIn } from '@/test/render'
import { server } from '@/test/server'
import { ChatPage } from './ChatPage'

function renderChat() {
  return renderPage(<ChatPage />, {
    path: '/chat',
    routes: [
      { path: '/subscribe', element: <p>Subscribe page</p> },
      { path: '/settings', element: <p>Settings page</p> },
    ],
  })
}

function serveHistory(messages: ReturnType<typeof message>[]) {
  server.use(
    http.get('*/messages', () =>
      HttpResponse.json({ persona_id: 'persona-ava', messages, next_cursor: null }),
    ),
  )
}

async function type(text: string) {
  const box = await screen.findByRole('textbox', { name: 'Message' })
  await userEvent.type(box, text)
  await userEvent.keyboard('{Enter}')
  return box
}

beforeEach(() => {
  signIn()
  serveSignedInBasics()
})

describe('ChatPage', () => {
  it('shows the history with the persona in the header', async () => {
    serveHistory([
      message({ role: 'user', content: 'Hi Ava' }),
      message({ role: 'assistant', content: 'Hello **you**' }),
    ])
    renderChat()
    const log = await screen.findByRole('log', { name: 'Conversation with Ava' })
    expect(await within(log).findByText('Hi Ava')).toBeInTheDocument()
    // Markdown is rendered: the bold word is a <strong>.
    expect(within(log).getByText('you').tagName).toBe('STRONG')
    expect(screen.getByText('warm and witty')).toBeInTheDocument()
    expect(screen.getByText('Secretary')).toBeInTheDocument()
  })

  it('streams the reply as it arrives and keeps the stored turn', async () => {
    serveHistory([])
    const stream = eventStream()
    let sent: unknown
    server.use(
      http.post('*/chat/stream', async ({ request }) => {
        sent = await request.json()
        return stream.response()
      }),
    )
    renderChat()
    const box = await type('How are you?')
    await waitFor(() => expect(sent).toEqual({ message: 'How are you?' }))
    expect(box).toHaveValue('')

    stream.send('delta', { text: 'I am ' })
    expect(await screen.findByText('I am')).toBeInTheDocument()
    // While the reply streams, Stop replaces Send.
    expect(screen.getByRole('button', { name: 'Stop' })).toBeInTheDocument()

    stream.send('delta', { text: 'wonderful.' })
    expect(await screen.findByText('I am wonderful.')).toBeInTheDocument()

    stream.send('done', {
      message: message({ id: 'u-1', role: 'user', content: 'How are you?' }),
      reply: message({ id: 'a-1', role: 'assistant', content: 'I am wonderful.' }),
    })
    stream.end()
    expect(await screen.findByRole('button', { name: 'Send' })).toBeInTheDocument()
    const log = screen.getByRole('log')
    expect(within(log).getAllByText('I am wonderful.')).toHaveLength(1)
    expect(within(log).getByText('How are you?')).toBeInTheDocument()
  })

  it('shows the seed banner on a 402 and gives the message back', async () => {
    serveHistory([])
    server.use(
      http.post('*/chat/stream', () =>
        HttpResponse.json({ detail: 'Subscription required' }, { status: 402 }),
      ),
    )
    renderChat()
    const box = await type('Hello there')
    expect(await screen.findByText('Subscription required to send messages.')).toBeInTheDocument()
    expect(screen.getByRole('link', { name: 'Subscribe' })).toHaveAttribute('href', '/subscribe')
    expect(box).toHaveValue('Hello there')
    expect(sessionStorage.getItem('ava.chat.draft')).toBe('Hello there')
  })

  it('links a 403 of intimate mode to the companion settings', async () => {
    serveHistory([])
    server.use(
      http.post('*/chat/stream', () =>
        HttpResponse.json(
          { detail: 'Intimate mode needs your 18+ confirmation.' },
          { status: 403 },
        ),
      ),
    )
    renderChat()
    await type('Hello')
    expect(
      await screen.findByText('Intimate mode needs your 18+ confirmation.'),
    ).toBeInTheDocument()
    expect(screen.getByRole('link', { name: 'Open settings' })).toHaveAttribute(
      'href',
      '/settings#companion',
    )
  })

  it('shows an error sent inside the stream and keeps the draft', async () => {
    serveHistory([])
    const stream = eventStream()
    server.use(http.post('*/chat/stream', () => stream.response()))
    renderChat()
    const box = await type('Tell me a story')
    stream.send('delta', { text: 'Once' })
    await screen.findByText('Once')
    stream.send('error', { detail: 'The persona plugin failed.', status: 502 })
    stream.end()
    expect(await screen.findByText('The persona plugin failed.')).toBeInTheDocument()
    expect(box).toHaveValue('Tell me a story')
  })

  it('says how long to wait when the stream ends busy', async () => {
    serveHistory([])
    const stream = eventStream()
    server.use(http.post('*/chat/stream', () => stream.response()))
    renderChat()
    const box = await type('Are you there?')
    stream.send('error', { detail: 'Rate limit reached', status: 503, retry_after: 7 })
    stream.end()
    expect(
      await screen.findByText('Rate limit reached. Try again in 7 seconds.'),
    ).toBeInTheDocument()
    expect(box).toHaveValue('Are you there?')
  })

  it('keeps a draft across a reload of the page', async () => {
    serveHistory([])
    sessionStorage.setItem('ava.chat.draft', 'half a thought')
    renderChat()
    expect(await screen.findByRole('textbox', { name: 'Message' })).toHaveValue('half a thought')
  })

  it('shows a reply photo as a placeholder while it is made, or why it failed', async () => {
    serveHistory([
      message({
        role: 'assistant',
        content: 'Here you go',
        photo: {
          id: 'p-1',
          status: 'pending',
          caption: 'Beach',
          image_url: null,
          failure_reason: null,
          prompt: null,
        },
      }),
      message({
        role: 'assistant',
        content: 'And another',
        photo: {
          ...photo({ id: 'p-2' }),
          status: 'failed',
          failure_reason: 'The image service refused the prompt.',
        },
      }),
    ])
    renderChat()
    expect(await screen.findByText('Taking a photo…')).toBeInTheDocument()
    expect(
      screen.getByText('The photo could not be made: The image service refused the prompt.'),
    ).toBeInTheDocument()
  })

  it('regenerates the last reply and shows the new one', async () => {
    let regenerated = false
    server.use(
      http.get('*/messages', () =>
        HttpResponse.json({
          persona_id: 'persona-ava',
          next_cursor: null,
          messages: [
            message({ id: 'u-1', role: 'user', content: 'Tell me a joke' }),
            message({
              id: 'a-1',
              role: 'assistant',
              content: regenerated ? 'A better joke' : 'A bad joke',
            }),
          ],
        }),
      ),
      http.post('*/chat/regenerate', () => {
        regenerated = true
        return HttpResponse.json({
          message: message({ id: 'u-1', role: 'user', content: 'Tell me a joke' }),
          reply: message({ id: 'a-2', role: 'assistant', content: 'A better joke' }),
        })
      }),
    )
    renderChat()
    await screen.findByText('A bad joke')
    await userEvent.click(screen.getByRole('button', { name: 'Regenerate' }))
    expect(await screen.findByText('A better joke')).toBeInTheDocument()
    expect(screen.queryByText('A bad joke')).not.toBeInTheDocument()
  })

  it('edits a message, and the conversation continues from it', async () => {
    let edited: unknown
    server.use(
      http.get('*/messages', () =>
        HttpResponse.json({
          persona_id: 'persona-ava',
          next_cursor: null,
          messages: edited
            ? [
                message({ id: 'u-1', role: 'user', content: 'Tell me about Mars' }),
                message({ id: 'a-3', role: 'assistant', content: 'Mars is red.' }),
              ]
            : [
                message({ id: 'u-1', role: 'user', content: 'Tell me about Venus' }),
                message({ id: 'a-1', role: 'assistant', content: 'Venus is hot.' }),
              ],
        }),
      ),
      http.put('*/messages/u-1', async ({ request }) => {
        edited = await request.json()
        return HttpResponse.json({
          message: message({ id: 'u-1', role: 'user', content: 'Tell me about Mars' }),
          reply: message({ id: 'a-3', role: 'assistant', content: 'Mars is red.' }),
        })
      }),
    )
    renderChat()
    await screen.findByText('Tell me about Venus')
    await userEvent.click(screen.getByRole('button', { name: 'Edit' }))
    const box = screen.getByLabelText('Edit your message')
    await userEvent.clear(box)
    await userEvent.type(box, 'Tell me about Mars')
    await userEvent.click(screen.getByRole('button', { name: 'Save' }))
    expect(await screen.findByText('Mars is red.')).toBeInTheDocument()
    expect(edited).toEqual({ content: 'Tell me about Mars' })
    expect(screen.queryByText('Venus is hot.')).not.toBeInTheDocument()
  })
})
