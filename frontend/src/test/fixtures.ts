import { http, HttpResponse } from 'msw'

import type { components } from '@/lib/api/schema'
import { server } from './server'

type Schemas = components['schemas']

export const ava: Schemas['Persona'] = {
  id: 'persona-ava',
  name: 'Ava',
  style: 'warm and witty',
  description: 'Your companion.',
  personality: 'kind',
  scenario: '',
  greeting: 'Hey, you. How was your day?',
  example_dialogue: '',
  system_prompt: '',
  post_history_instructions: '',
  appearance: 'auburn hair',
  alternate_greetings: [],
  tags: ['default'],
  creator: 'Ava',
  creator_notes: '',
  photo_seed: 7,
  created_at: 1_700_000_000_000,
  updated_at: 1_700_000_000_000,
  imported_from: null,
}

export const preferences: Schemas['Preferences'] = {
  mode: 'secretary',
  photos_enabled: true,
  adult_confirmed: false,
  adult_confirmed_at: null,
  active_persona_id: ava.id,
  updated_at: 1_700_000_000_000,
}

let seq = 0
export function message(overrides: Partial<Schemas['Message']> = {}): Schemas['Message'] {
  seq += 1
  return {
    id: `m-${seq}`,
    persona_id: ava.id,
    seq,
    role: 'user',
    content: `message ${seq}`,
    mode: 'secretary',
    created_at: 1_700_000_000_000 + seq * 1000,
    photo: null,
    ...overrides,
  }
}

export function photo(overrides: Partial<Schemas['Photo']> = {}): Schemas['Photo'] {
  return {
    id: 'photo-1',
    persona_id: ava.id,
    status: 'pending',
    prompt: 'a selfie at the beach',
    width: 768,
    height: 1024,
    created_at: 1_700_000_000_000,
    updated_at: 1_700_000_000_000,
    byte_size: null,
    caption: 'At the beach',
    content_type: null,
    failure_reason: null,
    image_url: null,
    message_id: null,
    model: null,
    provider: null,
    ...overrides,
  }
}

/** The answers every signed-in page reads: the personas and the preferences. */
export function serveSignedInBasics(prefs: Partial<Schemas['Preferences']> = {}) {
  server.use(
    http.get('*/avatars', () => HttpResponse.json({ avatars: [ava] })),
    http.get('*/preferences', () => HttpResponse.json({ ...preferences, ...prefs })),
  )
}

/**
 * A server-sent event stream the test writes to: `send` puts one event on the wire, `end`
 * closes it. The response is what an MSW handler returns.
 */
export function eventStream() {
  let controller!: ReadableStreamDefaultController<Uint8Array>
  const encoder = new TextEncoder()
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c
    },
  })
  return {
    response: () => new HttpResponse(body, { headers: { 'Content-Type': 'text/event-stream' } }),
    send: (event: string, data: unknown) =>
      controller.enqueue(encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)),
    end: () => controller.close(),
  }
}
