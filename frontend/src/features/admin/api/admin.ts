import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'

import { api, unwrap } from '@/lib/api/client'
import type { components } from '@/lib/api/schema'
import { adminKeys } from '@/lib/queryKeys'
import { useOperatorStore } from '@/stores/useAuthStore'

export type AdminPlugins = components['schemas']['AdminPlugins']
export type PluginView = components['schemas']['PluginView']
export type DeadJob = components['schemas']['DeadJobView']

/** The live figures refresh this often while the dashboard is open. */
const PLUGINS_EVERY_MS = 5000
const JOBS_EVERY_MS = 10_000

/** The operator token goes in its own header; the user's session is never sent here. */
function operatorHeaders(token: string) {
  return { Authorization: `Bearer ${token}` }
}

function useToken(): string {
  const token = useOperatorStore((s) => s.token)
  if (!token) throw new Error('the admin api outside an opened dashboard')
  return token
}

/** Checks a token by asking for the plugins with it; the caller keeps it when this passes. */
export function checkOperatorToken(token: string) {
  return unwrap(api.GET('/admin/plugins', { headers: operatorHeaders(token) }))
}

export function useAdminPlugins() {
  const token = useToken()
  return useQuery({
    queryKey: adminKeys.plugins,
    queryFn: ({ signal }) =>
      unwrap(api.GET('/admin/plugins', { headers: operatorHeaders(token), signal })),
    refetchInterval: PLUGINS_EVERY_MS,
    staleTime: 0,
  })
}

export function useDeadJobs() {
  const token = useToken()
  return useQuery({
    queryKey: adminKeys.deadJobs,
    queryFn: ({ signal }) =>
      unwrap(api.GET('/admin/jobs/dead', { headers: operatorHeaders(token), signal })),
    refetchInterval: JOBS_EVERY_MS,
    staleTime: 0,
  })
}

export function useReload() {
  const token = useToken()
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: () =>
      unwrap(api.POST('/admin/plugins/reload', { headers: operatorHeaders(token) })),
    onSettled: () => queryClient.invalidateQueries({ queryKey: adminKeys.plugins }),
  })
}

export function useRetryJob() {
  const token = useToken()
  const queryClient = useQueryClient()
  return useMutation({
    mutationFn: (id: string) =>
      unwrap(
        api.POST('/admin/jobs/{id}/retry', {
          params: { path: { id } },
          headers: operatorHeaders(token),
        }),
      ),
    onSettled: () => queryClient.invalidateQueries({ queryKey: adminKeys.deadJobs }),
  })
}
