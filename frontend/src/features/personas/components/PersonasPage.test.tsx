import { fireEvent, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { http, HttpResponse } from 'msw'
import { beforeEach, describe, expect, it } from 'vitest'

import { ava, preferences, serveSignedInBasics } from '@/test/fixtures'
import { renderPage, signIn } from '@/test/render'
import { server } from '@/test/server'
import { PersonasPage } from './PersonasPage'

const mira = {
  ...ava,
  id: 'persona-mira',
  name: 'Captain Mira',
  imported_from: 'v3',
  tags: ['sci-fi'],
}

function renderPersonas(url = '/personas') {
  return renderPage(<PersonasPage />, {
    path: '/personas/:personaId?',
    url,
    routes: [{ path: '/chat', element: <p>Chat page</p> }],
  })
}

function cardFile(
  name = 'mira.json',
  body = '{"spec":"chara_card_v3"}',
  type = 'application/json',
) {
  return new File([body], name, { type })
}

beforeEach(() => {
  signIn()
  serveSignedInBasics()
})

describe('PersonasPage', () => {
  it('lists the personas with the active one marked', async () => {
    renderPersonas()
    const card = await screen.findByRole('article', { name: 'Ava' })
    expect(within(card).getByText('Active')).toBeInTheDocument()
    expect(within(card).getByRole('link', { name: 'Open chat' })).toHaveAttribute('href', '/chat')
  })

  it('imports a card file and sends its bytes untouched', async () => {
    let received: { type: string | null; body: string } | undefined
    server.use(
      http.post('*/avatars/import', async ({ request }) => {
        received = { type: request.headers.get('content-type'), body: await request.text() }
        return HttpResponse.json(mira, { status: 201 })
      }),
    )
    renderPersonas()
    await userEvent.upload(await screen.findByLabelText('Import a Character Card'), cardFile())
    expect(await screen.findByText(/Imported Captain Mira/)).toBeInTheDocument()
    expect(received).toEqual({ type: 'application/json', body: '{"spec":"chara_card_v3"}' })
  })

  it("shows the API's reason when a card cannot be imported", async () => {
    server.use(
      http.post('*/avatars/import', () =>
        HttpResponse.json(
          { detail: 'This PNG has no character card in it (no chara or ccv3 text chunk).' },
          { status: 422 },
        ),
      ),
    )
    renderPersonas()
    await userEvent.upload(
      await screen.findByLabelText('Import a Character Card'),
      cardFile('photo.png', 'not really a png', 'image/png'),
    )
    expect(
      await screen.findByText(
        'Could not import the card: This PNG has no character card in it (no chara or ccv3 text chunk).',
      ),
    ).toBeInTheDocument()
  })

  it('refuses a file over 20 MB before sending it', async () => {
    let calls = 0
    server.use(
      http.post('*/avatars/import', () => {
        calls += 1
        return HttpResponse.json(mira, { status: 201 })
      }),
    )
    renderPersonas()
    const huge = cardFile('huge.png', 'x', 'image/png')
    Object.defineProperty(huge, 'size', { value: 21 * 1024 * 1024 })
    await userEvent.upload(await screen.findByLabelText('Import a Character Card'), huge)
    expect(await screen.findByText(/cards up to 20 MB can be imported/)).toBeInTheDocument()
    expect(calls).toBe(0)
  })

  it('imports a card dropped on the page', async () => {
    server.use(http.post('*/avatars/import', () => HttpResponse.json(mira, { status: 201 })))
    renderPersonas()
    const zone = (await screen.findByText(/Drop a Character Card here/)).closest('div')!
    fireEvent.drop(zone, { dataTransfer: { files: [cardFile()] } })
    expect(await screen.findByText(/Imported Captain Mira/)).toBeInTheDocument()
  })

  it('makes another persona the active one and opens the chat', async () => {
    let patched: unknown
    server.use(
      http.get('*/avatars', () => HttpResponse.json({ avatars: [ava, mira] })),
      http.patch('*/preferences', async ({ request }) => {
        patched = await request.json()
        return HttpResponse.json({ ...preferences, active_persona_id: mira.id })
      }),
    )
    const { router } = renderPersonas()
    await userEvent.click(await screen.findByRole('button', { name: 'Chat with Captain Mira' }))
    await waitFor(() => expect(router.state.location.pathname).toBe('/chat'))
    expect(patched).toEqual({ active_persona_id: mira.id })
  })

  it('shows a 422 at the field it names and keeps every field typed', async () => {
    server.use(
      http.post('*/avatars', () =>
        HttpResponse.json({ detail: 'name: must not be empty', field: 'name' }, { status: 422 }),
      ),
    )
    renderPersonas('/personas/new')
    await userEvent.type(await screen.findByLabelText('Scenario'), 'On a starship')
    await userEvent.click(screen.getByRole('button', { name: 'Create persona' }))
    expect(await screen.findByText('must not be empty')).toBeInTheDocument()
    expect(screen.getByLabelText('Name')).toHaveAttribute('aria-invalid', 'true')
    expect(screen.getByLabelText('Scenario')).toHaveValue('On a starship')
  })

  it('edits every field of a card and saves it whole', async () => {
    let saved: Record<string, unknown> | undefined
    server.use(
      http.put('*/avatars/persona-ava', async ({ request }) => {
        saved = (await request.json()) as Record<string, unknown>
        return HttpResponse.json({ ...ava, ...saved })
      }),
    )
    renderPersonas('/personas/persona-ava')
    const personality = await screen.findByLabelText('Personality')
    await userEvent.clear(personality)
    await userEvent.type(personality, 'bold')
    await userEvent.click(screen.getByRole('button', { name: 'Add an alternate first message' }))
    await userEvent.type(screen.getByLabelText('Alternate first message 1'), 'Ahoy!')
    await userEvent.clear(screen.getByRole('textbox', { name: 'Tags' }))
    await userEvent.type(screen.getByRole('textbox', { name: 'Tags' }), 'cozy, sci-fi, cozy')
    await userEvent.click(screen.getByRole('button', { name: 'Save changes' }))
    expect(await screen.findByText('Saved.')).toBeInTheDocument()
    expect(saved).toMatchObject({
      name: 'Ava',
      personality: 'bold',
      alternate_greetings: ['Ahoy!'],
      tags: ['cozy', 'sci-fi'],
      appearance: ava.appearance,
    })
  })
})
