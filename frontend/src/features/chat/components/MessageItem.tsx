import { Pencil, RefreshCw } from 'lucide-react'
import { useState } from 'react'

import { Button } from '@/components/Button'
import type { Message } from '../api/messages'
import { Markdown } from './Markdown'
import { PhotoAttachment } from './PhotoAttachment'

export function MessageItem({
  message,
  personaName,
  onRegenerate,
  onEdit,
  busy,
}: {
  message: Pick<Message, 'role' | 'content'> & Partial<Pick<Message, 'photo' | 'id'>>
  personaName: string
  onRegenerate?: (() => void) | undefined
  onEdit?: ((content: string) => Promise<unknown>) | undefined
  busy?: boolean
}) {
  const mine = message.role === 'user'
  const [editing, setEditing] = useState(false)
  const [draft, setDraft] = useState(message.content)
  const save = () => {
    if (!onEdit || !draft.trim()) return
    void onEdit(draft.trim()).then(() => setEditing(false))
  }
  return (
    <article
      aria-label={mine ? 'You said' : `${personaName} said`}
      className={`group flex flex-col ${mine ? 'items-end' : 'items-start'}`}
    >
      <div
        className={`max-w-[85%] rounded-2xl px-4 py-2.5 text-sm leading-relaxed sm:max-w-[70%] ${mine ? 'rounded-br-md bg-purple-600 text-white' : 'rounded-bl-md bg-gray-800 text-gray-100'}`}
      >
        {editing ? (
          <div className="space-y-2">
            <label className="sr-only" htmlFor={`edit-${message.id}`}>
              Edit your message
            </label>
            <textarea
              id={`edit-${message.id}`}
              value={draft}
              onChange={(e) => setDraft(e.target.value)}
              onKeyDown={(e) => {
                if (e.key === 'Escape') setEditing(false)
                if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) save()
              }}
              className="min-h-20 w-64 max-w-full rounded-lg bg-purple-900/60 p-2 text-white focus:outline-none"
              autoFocus
            />
            <div className="flex justify-end gap-2">
              <Button variant="ghost" onClick={() => setEditing(false)}>
                Cancel
              </Button>
              <Button variant="secondary" onClick={save} busy={busy}>
                Save
              </Button>
            </div>
          </div>
        ) : mine ? (
          <p className="whitespace-pre-wrap break-words">{message.content}</p>
        ) : (
          <Markdown text={message.content} />
        )}
        {message.photo && <PhotoAttachment photo={message.photo} />}
      </div>
      {!editing && (onEdit || onRegenerate) && (
        <div className="mt-1 flex gap-1 opacity-100 sm:opacity-0 sm:group-focus-within:opacity-100 sm:group-hover:opacity-100">
          {onEdit && (
            <button
              type="button"
              onClick={() => setEditing(true)}
              className="flex items-center gap-1 rounded px-2 py-1 text-xs text-gray-400 hover:text-white"
            >
              <Pencil className="h-3 w-3" aria-hidden /> Edit
            </button>
          )}
          {onRegenerate && (
            <button
              type="button"
              onClick={onRegenerate}
              disabled={busy}
              className="flex items-center gap-1 rounded px-2 py-1 text-xs text-gray-400 hover:text-white disabled:opacity-50"
            >
              <RefreshCw className={`h-3 w-3 ${busy ? 'animate-spin' : ''}`} aria-hidden />{' '}
              Regenerate
            </button>
          )}
        </div>
      )}
    </article>
  )
}
