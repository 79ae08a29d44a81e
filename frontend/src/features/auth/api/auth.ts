import { useMutation, useQuery } from '@tanstack/react-query'

import { api, unwrap } from '@/lib/api/client'
import type { components } from '@/lib/api/schema'
import { authKeys } from '@/lib/queryKeys'
import { useUserId } from '@/stores/session'
import { useAuthStore } from '@/stores/useAuthStore'

export type AuthSession = components['schemas']['AuthSession']
export type Registration = components['schemas']['Registration']
export type Credentials = components['schemas']['Credentials']

/** `POST /auth/register`: creates the account and answers its first session (201). */
export function register(body: Registration): Promise<AuthSession> {
  return unwrap(api.POST('/auth/register', { body }))
}

/** `POST /auth/login`; repeated failures are refused for a while (429). */
export function login(body: Credentials): Promise<AuthSession> {
  return unwrap(api.POST('/auth/login', { body }))
}

/** Signs the new session in; the page decides where to go next. */
function startSession({ token, user }: AuthSession) {
  useAuthStore.getState().signIn(token, user)
}

export function useSignup() {
  return useMutation({ mutationFn: register, onSuccess: startSession })
}

export function useLogin() {
  return useMutation({ mutationFn: login, onSuccess: startSession })
}

/** `GET /auth/me`: the account, its preferences and its subscription. */
export function useMe() {
  const userId = useUserId()
  return useQuery({
    queryKey: authKeys.me(userId),
    queryFn: ({ signal }) => unwrap(api.GET('/auth/me', { signal })),
  })
}
