import { MessageCircle, Pencil } from 'lucide-react'
import { Link } from 'react-router'

import { Avatar } from '@/components/Avatar'
import { Button } from '@/components/Button'
import type { Persona } from '../api/personas'

/** A persona in the list: who they are, whether the chat talks as them, and its actions. */
export function PersonaCard({
  persona,
  active,
  selected,
  switching,
  onActivate,
}: {
  persona: Persona
  active: boolean
  selected: boolean
  switching: boolean
  onActivate: () => void
}) {
  return (
    <article
      aria-label={persona.name}
      className={`space-y-3 rounded-2xl border p-4 ${selected ? 'border-purple-500 bg-purple-950/30' : 'border-gray-800 bg-gray-900'}`}
    >
      <div className="flex items-start gap-3">
        <Avatar name={persona.name} />
        <div className="min-w-0 flex-1">
          <h3 className="flex items-center gap-2 font-semibold">
            <span className="truncate">{persona.name}</span>
            {active && (
              <span className="shrink-0 rounded-full bg-purple-800/70 px-2 py-0.5 text-[11px] font-medium text-purple-100">
                Active
              </span>
            )}
          </h3>
          {persona.style && <p className="truncate text-xs text-gray-400">{persona.style}</p>}
          {persona.description && (
            <p className="mt-1 line-clamp-2 text-sm text-gray-300">{persona.description}</p>
          )}
          {persona.tags.length > 0 && (
            <ul aria-label="Tags" className="mt-2 flex flex-wrap gap-1">
              {persona.tags.slice(0, 5).map((tag) => (
                <li
                  key={tag}
                  className="rounded-full bg-gray-800 px-2 py-0.5 text-[11px] text-gray-300"
                >
                  {tag}
                </li>
              ))}
            </ul>
          )}
        </div>
      </div>
      <div className="flex flex-wrap gap-2">
        {active ? (
          <Link
            to="/chat"
            className="inline-flex items-center gap-1.5 rounded-xl bg-purple-600 px-3 py-1.5 text-xs font-semibold text-white hover:bg-purple-500"
          >
            <MessageCircle aria-hidden className="h-3.5 w-3.5" />
            Open chat
          </Link>
        ) : (
          <Button
            className="px-3 py-1.5 text-xs"
            busy={switching}
            onClick={onActivate}
            aria-label={`Chat with ${persona.name}`}
          >
            <MessageCircle aria-hidden className="h-3.5 w-3.5" />
            Chat with {persona.name.split(/\s+/).at(-1)}
          </Button>
        )}
        <Link
          to={`/personas/${encodeURIComponent(persona.id)}`}
          aria-label={`Edit ${persona.name}`}
          className="inline-flex items-center gap-1.5 rounded-xl border border-gray-700 bg-gray-800 px-3 py-1.5 text-xs font-semibold text-gray-100 hover:bg-gray-700"
        >
          <Pencil aria-hidden className="h-3.5 w-3.5" />
          Edit
        </Link>
      </div>
    </article>
  )
}
