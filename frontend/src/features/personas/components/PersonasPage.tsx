import { ArrowLeft, Plus } from 'lucide-react'
import { useState } from 'react'
import { Link, useNavigate, useParams } from 'react-router'

import { Alert } from '@/components/Alert'
import { QueryError } from '@/components/QueryError'
import { Loading } from '@/components/Spinner'
import { usePreferences, useUpdatePreferences } from '@/features/settings'
import { messageOf } from '@/lib/api/errors'
import { usePersonas, type Persona } from '../api/personas'
import { CardImport } from './CardImport'
import { PersonaCard } from './PersonaCard'
import { PersonaEditor } from './PersonaEditor'

/**
 * The user's personas: the list, with import and "chat with"; `/personas/new` and
 * `/personas/:id` open the editor beside it (on phones, in its place).
 */
export function PersonasPage() {
  const { personaId } = useParams()
  const personas = usePersonas()
  const prefs = usePreferences()
  const activate = useUpdatePreferences()
  const navigate = useNavigate()
  const [imported, setImported] = useState<Persona | null>(null)
  const editing = personaId !== undefined
  const persona =
    personaId && personaId !== 'new' ? personas.data?.find((p) => p.id === personaId) : null

  const chatWith = (id: string) =>
    activate.mutate({ active_persona_id: id }, { onSuccess: () => void navigate('/chat') })

  return (
    <div className="min-h-0 flex-1 overflow-y-auto">
      <div className="mx-auto grid max-w-6xl gap-6 px-4 py-6 lg:grid-cols-[minmax(0,22rem)_minmax(0,1fr)]">
        <section
          aria-labelledby="personas-title"
          className={`space-y-4 ${editing ? 'hidden lg:block' : ''}`}
        >
          <div className="flex items-center justify-between gap-3">
            <h1 id="personas-title" className="text-xl font-bold">
              Personas
            </h1>
            <Link
              to="/personas/new"
              className="inline-flex items-center gap-1.5 rounded-xl bg-purple-600 px-3 py-2 text-sm font-semibold text-white hover:bg-purple-500"
            >
              <Plus aria-hidden className="h-4 w-4" />
              New
            </Link>
          </div>
          <CardImport onImported={setImported} />
          {imported && (
            <Alert tone="success">
              Imported {imported.name}.{' '}
              <Link
                to={`/personas/${encodeURIComponent(imported.id)}`}
                className="font-medium underline"
              >
                Review the card
              </Link>
            </Alert>
          )}
          {activate.error && <Alert>Could not switch: {messageOf(activate.error)}</Alert>}
          {personas.isPending && <Loading label="Loading your personas" />}
          {personas.isError && (
            <QueryError error={personas.error} retry={() => void personas.refetch()} />
          )}
          {personas.data && (
            <div className="space-y-3">
              {personas.data.map((p) => (
                <PersonaCard
                  key={p.id}
                  persona={p}
                  active={p.id === prefs.data?.active_persona_id}
                  selected={p.id === personaId}
                  switching={activate.isPending && activate.variables.active_persona_id === p.id}
                  onActivate={() => chatWith(p.id)}
                />
              ))}
            </div>
          )}
        </section>

        <section aria-label="Persona" className={editing ? '' : 'hidden lg:block'}>
          {editing && (
            <Link
              to="/personas"
              className="mb-4 inline-flex items-center gap-1 text-sm text-purple-300 lg:hidden"
            >
              <ArrowLeft aria-hidden className="h-4 w-4" />
              All personas
            </Link>
          )}
          {!editing ? (
            <div className="rounded-2xl border border-dashed border-gray-800 p-8 text-center text-sm text-gray-400">
              <p className="font-medium text-gray-300">
                Pick a persona to edit, or make a new one.
              </p>
              <p className="mt-1">
                Every field of a Character Card can be edited here, and exported again.
              </p>
            </div>
          ) : personaId === 'new' ? (
            <PersonaEditor
              key="new"
              persona={null}
              onDone={(id) => void navigate(`/personas/${encodeURIComponent(id)}`)}
            />
          ) : personas.isPending ? (
            <Loading label="Loading the persona" />
          ) : persona ? (
            <PersonaEditor key={persona.id} persona={persona} onDone={() => undefined} />
          ) : personas.isSuccess ? (
            <Alert>
              This persona does not exist any more.{' '}
              <Link to="/personas" className="underline">
                Back to your personas
              </Link>
            </Alert>
          ) : null}
        </section>
      </div>
    </div>
  )
}
