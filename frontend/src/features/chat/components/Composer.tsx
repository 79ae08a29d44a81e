import { SendHorizontal, Square } from 'lucide-react'
import { useEffect, useRef, type FormEvent } from 'react'

export const MAX_MESSAGE_CHARS = 4000

/** The message box: Enter sends, Shift+Enter starts a new line; Stop while a reply streams. */
export function Composer({
  value,
  onChange,
  onSend,
  onStop,
  streaming,
}: {
  value: string
  onChange: (value: string) => void
  onSend: () => void
  onStop: () => void
  streaming: boolean
}) {
  const box = useRef<HTMLTextAreaElement>(null)
  useEffect(() => {
    const el = box.current
    if (!el) return
    el.style.height = 'auto'
    el.style.height = `${Math.min(el.scrollHeight, 200)}px`
  }, [value])
  const tooLong = value.length > MAX_MESSAGE_CHARS
  const submit = (e?: FormEvent) => {
    e?.preventDefault()
    if (!streaming && value.trim() && !tooLong) onSend()
  }
  return (
    <form onSubmit={submit} className="border-t border-gray-800 bg-gray-950 p-3">
      <div className="mx-auto flex max-w-3xl items-end gap-2">
        <label htmlFor="composer" className="sr-only">
          Message
        </label>
        <textarea
          id="composer"
          ref={box}
          rows={1}
          value={value}
          placeholder="Write a message…"
          onChange={(e) => onChange(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
              e.preventDefault()
              submit()
            }
          }}
          aria-describedby={value.length > MAX_MESSAGE_CHARS - 400 ? 'composer-count' : undefined}
          className="max-h-[200px] min-h-11 flex-1 resize-none rounded-2xl border border-gray-700 bg-gray-900 px-4 py-2.5 text-sm text-gray-100 placeholder:text-gray-500 focus:border-purple-500 focus:outline-none"
        />
        {streaming ? (
          <button
            type="button"
            onClick={onStop}
            className="flex h-11 w-11 shrink-0 items-center justify-center rounded-full bg-gray-700 text-white hover:bg-gray-600"
            aria-label="Stop"
          >
            <Square className="h-4 w-4" aria-hidden />
          </button>
        ) : (
          <button
            type="submit"
            disabled={!value.trim() || tooLong}
            className="flex h-11 w-11 shrink-0 items-center justify-center rounded-full bg-purple-600 text-white hover:bg-purple-500 disabled:opacity-40"
            aria-label="Send"
          >
            <SendHorizontal className="h-4 w-4" aria-hidden />
          </button>
        )}
      </div>
      {value.length > MAX_MESSAGE_CHARS - 400 && (
        <p
          id="composer-count"
          className={`mx-auto mt-1 max-w-3xl text-right text-xs ${tooLong ? 'text-red-400' : 'text-gray-500'}`}
        >
          {value.length} / {MAX_MESSAGE_CHARS}
        </p>
      )}
    </form>
  )
}
