import { Plus, Trash2, X } from 'lucide-react'
import { useState, type FormEvent } from 'react'
import { Link, useNavigate } from 'react-router'

import { Alert } from '@/components/Alert'
import { Button } from '@/components/Button'
import { Dialog } from '@/components/Dialog'
import { TextArea, TextField } from '@/components/TextField'
import { fieldError, isStatus, messageOf } from '@/lib/api/errors'
import { useDeletePersona, useSavePersona, type Persona } from '../api/personas'
import { draftOf, emptyDraft, fieldsOf, parseTags, sections, type Draft } from '../lib/fields'
import { ExportMenu } from './ExportMenu'

/** Every field of a card, to create a persona (`persona` null) or edit one. */
export function PersonaEditor({
  persona,
  onDone,
}: {
  persona: Persona | null
  onDone: (id: string) => void
}) {
  const [draft, setDraft] = useState<Draft>(() => (persona ? draftOf(persona) : emptyDraft()))
  const [tagsText, setTagsText] = useState(() => draft.tags.join(', '))
  const [confirmDelete, setConfirmDelete] = useState(false)
  const [saved, setSaved] = useState(false)
  const save = useSavePersona()
  const remove = useDeletePersona()
  const navigate = useNavigate()

  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => {
    if (save.error) save.reset()
    setSaved(false)
    setDraft((d) => ({ ...d, [key]: value }))
  }
  const errorAt = (key: string) => fieldError(save.error, key)
  const fieldLevel = isStatus(save.error, 422) && save.error.field
  const greetings = draft.alternate_greetings

  function submit(event: FormEvent) {
    event.preventDefault()
    save.mutate(
      { id: persona?.id ?? null, fields: fieldsOf({ ...draft, tags: parseTags(tagsText) }) },
      {
        onSuccess: (stored) => {
          setDraft(draftOf(stored))
          setTagsText(stored.tags.join(', '))
          setSaved(true)
          onDone(stored.id)
        },
      },
    )
  }

  return (
    <form
      onSubmit={submit}
      className="space-y-6"
      aria-label={persona ? `Edit ${persona.name}` : 'New persona'}
      noValidate
    >
      <div className="flex flex-wrap items-center justify-between gap-3">
        <h2 className="text-lg font-semibold">
          {persona ? `Edit ${persona.name}` : 'New persona'}
        </h2>
        {persona && <ExportMenu persona={persona} />}
      </div>
      {persona?.imported_from && (
        <p className="text-xs text-gray-500">Imported from a {persona.imported_from} card.</p>
      )}

      {sections.map((section) => (
        <fieldset
          key={section.title}
          className="space-y-4 rounded-2xl border border-gray-800 bg-gray-900 p-4 sm:p-5"
        >
          <legend className="px-1 text-sm font-semibold text-gray-200">{section.title}</legend>
          {section.note && <p className="-mt-1 text-xs text-gray-500">{section.note}</p>}
          {section.fields.map((field) =>
            field.rows ? (
              <TextArea
                key={field.key}
                label={field.label}
                hint={field.hint}
                rows={field.rows}
                value={draft[field.key]}
                error={errorAt(field.key)}
                onChange={(e) => set(field.key, e.target.value)}
              />
            ) : (
              <TextField
                key={field.key}
                label={field.label}
                hint={field.hint}
                value={draft[field.key]}
                error={errorAt(field.key)}
                required={field.key === 'name'}
                maxLength={field.key === 'name' ? 80 : undefined}
                onChange={(e) => set(field.key, e.target.value)}
              />
            ),
          )}
          {section.title === 'The conversation' && (
            <div className="space-y-2">
              <p className="text-sm font-medium text-gray-300">Alternate first messages</p>
              {greetings.map((greeting, i) => (
                <div key={i} className="flex items-start gap-2">
                  <TextArea
                    className="flex-1"
                    label={`Alternate first message ${i + 1}`}
                    rows={2}
                    value={greeting}
                    onChange={(e) =>
                      set(
                        'alternate_greetings',
                        greetings.map((g, j) => (j === i ? e.target.value : g)),
                      )
                    }
                  />
                  <Button
                    variant="ghost"
                    className="mt-6 px-2"
                    aria-label={`Remove alternate first message ${i + 1}`}
                    onClick={() =>
                      set(
                        'alternate_greetings',
                        greetings.filter((_, j) => j !== i),
                      )
                    }
                  >
                    <X aria-hidden className="h-4 w-4" />
                  </Button>
                </div>
              ))}
              {errorAt('alternate_greetings') && (
                <p className="text-xs text-red-400">{errorAt('alternate_greetings')}</p>
              )}
              <Button
                variant="secondary"
                onClick={() => set('alternate_greetings', [...greetings, ''])}
              >
                <Plus aria-hidden className="h-4 w-4" />
                Add an alternate first message
              </Button>
            </div>
          )}
          {section.title === 'About the card' && (
            <TextField
              label="Tags"
              hint="Separated by commas."
              value={tagsText}
              error={errorAt('tags')}
              onChange={(e) => {
                if (save.error) save.reset()
                setTagsText(e.target.value)
              }}
            />
          )}
        </fieldset>
      ))}

      {save.error && !fieldLevel && <Alert>{messageOf(save.error)}</Alert>}
      {save.error && fieldLevel && (
        <Alert>Check the field marked above: {messageOf(save.error)}</Alert>
      )}

      <div className="sticky bottom-0 -mx-4 flex flex-wrap items-center gap-3 border-t border-gray-800 bg-gray-950/95 px-4 py-3">
        <Button type="submit" busy={save.isPending}>
          {persona ? 'Save changes' : 'Create persona'}
        </Button>
        <Link
          to="/personas"
          className="rounded-xl px-3 py-2 text-sm text-gray-300 hover:bg-gray-800"
        >
          {saved ? 'Done' : 'Cancel'}
        </Link>
        {saved && (
          <p role="status" className="text-sm text-emerald-300">
            Saved.
          </p>
        )}
        {persona && (
          <Button
            variant="ghost"
            className="ml-auto text-red-300"
            onClick={() => setConfirmDelete(true)}
          >
            <Trash2 aria-hidden className="h-4 w-4" />
            Delete
          </Button>
        )}
      </div>

      {persona && (
        <Dialog
          open={confirmDelete}
          onClose={() => setConfirmDelete(false)}
          title={`Delete ${persona.name}?`}
        >
          <p className="text-sm text-gray-300">
            {persona.name} and your whole conversation with them will be deleted. This cannot be
            undone.
          </p>
          {remove.error && <Alert>{messageOf(remove.error)}</Alert>}
          <div className="flex justify-end gap-2">
            <Button variant="ghost" onClick={() => setConfirmDelete(false)}>
              Keep
            </Button>
            <Button
              variant="danger"
              busy={remove.isPending}
              onClick={() =>
                remove.mutate(persona.id, {
                  onSuccess: () => {
                    setConfirmDelete(false)
                    void navigate('/personas')
                  },
                })
              }
            >
              Delete
            </Button>
          </div>
        </Dialog>
      )}
    </form>
  )
}
