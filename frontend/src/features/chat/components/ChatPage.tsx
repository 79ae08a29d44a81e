import { useEffect, useLayoutEffect, useRef, useState } from 'react'
import { Link } from 'react-router'

import { Alert } from '@/components/Alert'
import { Avatar } from '@/components/Avatar'
import { Loading, Spinner } from '@/components/Spinner'
import { QueryError } from '@/components/QueryError'
import { usePersonas } from '@/features/personas'
import { usePreferences } from '@/features/settings'
import { isStatus, messageOf } from '@/lib/api/errors'
import { flatten, useEditMessage, useMessages, useRegenerate } from '../api/messages'
import { useStreamReply } from '../hooks/useStreamReply'
import { Composer } from './Composer'
import { Markdown } from './Markdown'
import { MessageItem } from './MessageItem'

const DRAFT_KEY = 'ava.chat.draft'

/** Whether the list is scrolled (nearly) to its end: only then do new messages pull it down. */
function nearBottom(el: HTMLElement) {
  return el.scrollHeight - el.scrollTop - el.clientHeight < 120
}

export function ChatPage() {
  const prefs = usePreferences()
  const personas = usePersonas()
  const history = useMessages()
  const { send, stop, inFlight, streaming } = useStreamReply()
  const regenerate = useRegenerate()
  const edit = useEditMessage()
  const [draft, setDraftState] = useState(() => sessionStorage.getItem(DRAFT_KEY) ?? '')
  const [refusal, setRefusal] = useState<unknown>(null)
  const list = useRef<HTMLDivElement>(null)
  const top = useRef<HTMLDivElement>(null)
  const stick = useRef(true)
  const heightBefore = useRef<number | null>(null)

  const setDraft = (text: string) => {
    setDraftState(text)
    if (text) sessionStorage.setItem(DRAFT_KEY, text)
    else sessionStorage.removeItem(DRAFT_KEY)
  }

  const persona = personas.data?.find((p) => p.id === prefs.data?.active_persona_id)
  const personaName = persona?.name ?? 'Ava'
  const messages = flatten(history.data)
  const lastReply = [...messages].reverse().find((m) => m.role === 'assistant')

  // Older pages load when the top of the list comes into view.
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = history
  useEffect(() => {
    const sentinel = top.current
    const root = list.current
    if (!sentinel || !root || !hasNextPage) return
    const observer = new IntersectionObserver(
      ([entry]) => {
        if (entry?.isIntersecting && !isFetchingNextPage) {
          heightBefore.current = root.scrollHeight
          void fetchNextPage()
        }
      },
      { root, rootMargin: '200px 0px 0px 0px' },
    )
    observer.observe(sentinel)
    return () => observer.disconnect()
  }, [hasNextPage, isFetchingNextPage, fetchNextPage])

  // Keep the view where it was when older messages are put above it; follow new ones.
  const pageCount = history.data?.pages.length ?? 0
  useLayoutEffect(() => {
    const root = list.current
    if (!root) return
    if (heightBefore.current !== null) {
      root.scrollTop += root.scrollHeight - heightBefore.current
      heightBefore.current = null
    } else if (stick.current) {
      root.scrollTop = root.scrollHeight
    }
  }, [pageCount, messages.length, inFlight?.reply])

  const submit = () => {
    const text = draft.trim()
    setRefusal(null)
    setDraft('')
    stick.current = true
    send(text).catch((error: unknown) => {
      // Nothing typed is lost: the message goes back into the box.
      setDraftState((current) => {
        const restored = current ? current : text
        sessionStorage.setItem(DRAFT_KEY, restored)
        return restored
      })
      setRefusal(error)
    })
  }

  return (
    <div className="flex min-h-0 flex-1 flex-col">
      <header className="flex items-center gap-3 border-b border-gray-800 px-4 py-3">
        <Avatar name={personaName} />
        <div className="min-w-0 flex-1">
          <p className="truncate font-semibold">{personaName}</p>
          <p className="truncate text-xs text-gray-400">{persona?.style || 'Your companion'}</p>
        </div>
        {prefs.data && (
          <span
            className={`rounded-full px-2.5 py-1 text-xs font-medium ${prefs.data.mode === 'intimate' ? 'bg-pink-900/60 text-pink-200' : 'bg-gray-800 text-gray-300'}`}
          >
            {prefs.data.mode === 'intimate' ? 'Intimate' : 'Secretary'}
          </span>
        )}
        <Link to="/personas" className="text-xs text-purple-300 underline">
          Switch
        </Link>
      </header>

      <div
        ref={list}
        onScroll={(e) => (stick.current = nearBottom(e.currentTarget))}
        className="min-h-0 flex-1 overflow-y-auto px-4 py-4"
      >
        <div
          role="log"
          aria-live="polite"
          aria-label={`Conversation with ${personaName}`}
          className="mx-auto flex max-w-3xl flex-col gap-3"
        >
          <div ref={top} />
          {history.isPending && <Loading label="Loading the conversation" />}
          {history.isError && (
            <QueryError error={history.error} retry={() => void history.refetch()} />
          )}
          {isFetchingNextPage && (
            <div className="flex justify-center text-purple-300">
              <Spinner label="Loading older messages" />
            </div>
          )}
          {history.isSuccess && !hasNextPage && messages.length > 0 && (
            <p className="text-center text-xs text-gray-500">Beginning of your conversation</p>
          )}
          {history.isSuccess && messages.length === 0 && !inFlight && (
            <div className="mx-auto mt-10 max-w-sm text-center text-gray-400">
              <Avatar name={personaName} size="lg" />
              <p className="mt-3 text-lg font-semibold text-gray-200">Say hello to {personaName}</p>
              {persona?.greeting ? (
                <p className="mt-2 text-sm italic">“{persona.greeting}”</p>
              ) : (
                <p className="mt-2 text-sm">Start the conversation below.</p>
              )}
            </div>
          )}
          {messages.map((m) => (
            <MessageItem
              key={m.id}
              message={m}
              personaName={personaName}
              busy={(m.id === lastReply?.id && regenerate.isPending) || edit.isPending}
              onRegenerate={
                m.id === lastReply?.id && !streaming ? () => regenerate.mutate() : undefined
              }
              onEdit={
                m.role === 'user' && !streaming
                  ? (content) => edit.mutateAsync({ id: m.id, content })
                  : undefined
              }
            />
          ))}
          {inFlight && (
            <>
              <MessageItem
                message={{ role: 'user', content: inFlight.message }}
                personaName={personaName}
              />
              <article
                aria-label={`${personaName} is writing`}
                className="flex flex-col items-start"
              >
                <div className="max-w-[85%] rounded-2xl rounded-bl-md bg-gray-800 px-4 py-2.5 text-sm leading-relaxed sm:max-w-[70%]">
                  {inFlight.reply ? (
                    <Markdown text={inFlight.reply} />
                  ) : (
                    <span className="inline-flex gap-1 text-gray-400" aria-label="Writing">
                      <span className="animate-pulse">●</span>
                      <span className="animate-pulse [animation-delay:150ms]">●</span>
                      <span className="animate-pulse [animation-delay:300ms]">●</span>
                    </span>
                  )}
                </div>
              </article>
            </>
          )}
        </div>
      </div>

      <div className="mx-auto w-full max-w-3xl">
        {isStatus(refusal, 402) ? (
          <div className="mx-4 mb-2 flex items-center justify-between rounded-lg border border-yellow-600 bg-yellow-900/50 p-3">
            <p className="text-sm text-yellow-200">Subscription required to send messages.</p>
            <Link
              to="/subscribe"
              className="ml-4 text-sm font-medium whitespace-nowrap text-yellow-400 underline"
            >
              Subscribe
            </Link>
          </div>
        ) : isStatus(refusal, 403) ? (
          <Alert
            tone="warning"
            className="mx-4 mb-2"
            action={
              <Link
                to="/settings#companion"
                className="text-sm font-medium whitespace-nowrap text-yellow-300 underline"
              >
                Open settings
              </Link>
            }
          >
            {messageOf(refusal)}
          </Alert>
        ) : refusal ? (
          <Alert className="mx-4 mb-2">{messageOf(refusal)}</Alert>
        ) : null}
        {(regenerate.error || edit.error) && (
          <Alert className="mx-4 mb-2">{messageOf(regenerate.error ?? edit.error)}</Alert>
        )}
      </div>
      <Composer
        value={draft}
        onChange={setDraft}
        onSend={submit}
        onStop={stop}
        streaming={streaming}
      />
    </div>
  )
}
