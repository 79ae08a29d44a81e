import type { Persona, PersonaFields } from '../api/personas'

/** The editable text fields of a card, in the order the editor shows them, by section. */
export interface TextFieldSpec {
  key: Exclude<keyof PersonaFields, 'alternate_greetings' | 'tags'>
  label: string
  hint?: string
  /** One line, or a text area of this many rows. */
  rows?: number
}

export const sections: { title: string; note?: string; fields: TextFieldSpec[] }[] = [
  {
    title: 'Who they are',
    fields: [
      { key: 'name', label: 'Name' },
      {
        key: 'style',
        label: 'Style',
        hint: 'A few words shown under the name, such as "warm and witty".',
      },
      { key: 'description', label: 'Description', rows: 4 },
      { key: 'personality', label: 'Personality', rows: 3 },
      {
        key: 'appearance',
        label: 'Appearance',
        rows: 3,
        hint: 'What the photos show: looks, style, setting.',
      },
    ],
  },
  {
    title: 'The conversation',
    fields: [
      { key: 'scenario', label: 'Scenario', rows: 3 },
      {
        key: 'greeting',
        label: 'First message',
        rows: 3,
        hint: 'What they say to open a new chat.',
      },
      {
        key: 'example_dialogue',
        label: 'Example dialogue',
        rows: 5,
        hint: 'Lines in the card format ({{user}}: … / {{char}}: …) that set the voice.',
      },
    ],
  },
  {
    title: 'Prompt',
    note: 'Advanced: replaces or follows the instructions Ava builds from the fields above.',
    fields: [
      { key: 'system_prompt', label: 'System prompt', rows: 4 },
      { key: 'post_history_instructions', label: 'Post-history instructions', rows: 3 },
    ],
  },
  {
    title: 'About the card',
    fields: [
      { key: 'creator', label: 'Creator' },
      { key: 'creator_notes', label: 'Creator notes', rows: 3 },
    ],
  },
]

/** The editor's state: every field as the inputs hold it. */
export type Draft = Required<{ [K in keyof PersonaFields]: NonNullable<PersonaFields[K]> }>

export function emptyDraft(): Draft {
  return {
    name: '',
    style: '',
    description: '',
    personality: '',
    scenario: '',
    greeting: '',
    example_dialogue: '',
    system_prompt: '',
    post_history_instructions: '',
    appearance: '',
    alternate_greetings: [],
    tags: [],
    creator: '',
    creator_notes: '',
  }
}

export function draftOf(persona: Persona): Draft {
  const draft = emptyDraft()
  for (const key of Object.keys(draft) as (keyof Draft)[]) {
    ;(draft as Record<keyof Draft, unknown>)[key] = persona[key]
  }
  return draft
}

/** Tags as typed ("cozy, sci-fi ,, captain") to the list the API keeps. */
export function parseTags(text: string): string[] {
  return [
    ...new Set(
      text
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    ),
  ]
}

/** What is sent: empty alternate greetings are dropped. */
export function fieldsOf(draft: Draft): PersonaFields {
  return { ...draft, alternate_greetings: draft.alternate_greetings.filter((g) => g.trim() !== '') }
}
