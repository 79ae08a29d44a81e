import {
  useInfiniteQuery,
  useMutation,
  useQueryClient,
  type InfiniteData,
} from '@tanstack/react-query'

import { api, unwrap } from '@/lib/api/client'
import type { components } from '@/lib/api/schema'
import { chatKeys } from '@/lib/queryKeys'
import { useUserId } from '@/stores/session'

export type Message = components['schemas']['Message']
export type MessagePage = components['schemas']['MessagePage']
export type Turn = components['schemas']['Turn']
/** The chat's cache: pages of the active persona's conversation, the newest page first. */
export type Conversation = InfiniteData<MessagePage, string | null>

export const PAGE_SIZE = 30

export function useMessages() {
  const userId = useUserId()
  return useInfiniteQuery({
    queryKey: chatKeys.messages(userId, null),
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET('/messages', {
          params: { query: { limit: PAGE_SIZE, ...(pageParam ? { before: pageParam } : {}) } },
        }),
      ),
    initialPageParam: null as string | null,
    getNextPageParam: (page) => page.next_cursor,
  })
}

/** Every message of the cached conversation, oldest first. */
export function flatten(data: { pages: MessagePage[] } | undefined): Message[] {
  if (!data) return []
  return [...data.pages].reverse().flatMap((page) => page.messages)
}

/** Puts a stored turn at the end of the cached conversation. */
export function appendTurn(data: Conversation | undefined, turn: Turn): Conversation | undefined {
  if (!data || data.pages.length === 0) return data
  const [newest, ...older] = data.pages as [MessagePage, ...MessagePage[]]
  const ids = new Set([turn.message.id, turn.reply.id])
  const kept = newest.messages.filter((m) => !ids.has(m.id))
  return {
    ...data,
    pages: [{ ...newest, messages: [...kept, turn.message, turn.reply] }, ...older],
  }
}

/** After a rewrite (regenerate, edit) the conversation is read again from the server. */
function useRewrite<T>(call: (input: T) => Promise<Turn>) {
  const userId = useUserId()
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: call,
    onSuccess: () => queryClient.invalidateQueries({ queryKey: chatKeys.all(userId) }),
  })
}

export function useRegenerate() {
  return useRewrite(() => unwrap(api.POST('/chat/regenerate', {})))
}

export function useEditMessage() {
  return useRewrite(({ id, content }: { id: string; content: string }) =>
    unwrap(api.PUT('/messages/{id}', { params: { path: { id } }, body: { content } })),
  )
}
