import { useQueryClient } from '@tanstack/react-query'
import { RefreshCw } from 'lucide-react'
import { useEffect } from 'react'

import { Alert } from '@/components/Alert'
import { Button } from '@/components/Button'
import { QueryError } from '@/components/QueryError'
import { Loading } from '@/components/Spinner'
import { isStatus, messageOf } from '@/lib/api/errors'
import { useOperatorStore } from '@/stores/useAuthStore'
import { useAdminPlugins, useReload, type PluginView } from '../api/admin'
import { DeadJobs } from './DeadJobs'
import { OperatorLogin } from './OperatorLogin'
import { PluginCard } from './PluginCard'

const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' })

/** The plugins under each slot they fill, slots in a stable order. */
function bySlot(plugins: PluginView[]): [string, PluginView[]][] {
  const slots = new Map<string, PluginView[]>()
  for (const plugin of plugins) {
    for (const slot of plugin.slots.length ? plugin.slots : ['other']) {
      slots.set(slot, [...(slots.get(slot) ?? []), plugin])
    }
  }
  return [...slots].sort(([a], [b]) => a.localeCompare(b))
}

/** `/admin`: opened with the operator token, never with a user's session. */
export function AdminPage() {
  const token = useOperatorStore((s) => s.token)
  return token ? <Dashboard /> : <OperatorLogin />
}

function Dashboard() {
  const plugins = useAdminPlugins()
  const reload = useReload()
  const forget = useOperatorStore((s) => s.setToken)
  const queryClient = useQueryClient()

  const close = () => {
    forget(null)
    queryClient.removeQueries({ queryKey: ['admin'] })
  }
  // A token the host stopped accepting (rotated, or the host restarted with another).
  const refused = isStatus(plugins.error, 401)
  useEffect(() => {
    if (refused) close()
  })

  const data = plugins.data
  return (
    <div className="h-full overflow-y-auto">
      <div className="mx-auto max-w-6xl space-y-6 px-4 py-6">
        <header className="flex flex-wrap items-center justify-between gap-3">
          <div>
            <h1 className="text-xl font-bold">Operator dashboard</h1>
            {data && (
              <p className="text-sm text-gray-400">
                Config generation {data.generation}, loaded {when.format(data.loaded_at)}. Figures
                refresh every 5 s.
              </p>
            )}
          </div>
          <div className="flex gap-2">
            <Button variant="secondary" busy={reload.isPending} onClick={() => reload.mutate()}>
              <RefreshCw aria-hidden className="h-4 w-4" />
              Reload config
            </Button>
            <Button variant="ghost" onClick={close}>
              Close
            </Button>
          </div>
        </header>

        {reload.isSuccess && (
          <Alert tone="success">Reloaded: generation {reload.data.generation} runs now.</Alert>
        )}
        {reload.error && (
          <Alert>
            The reload was refused, the previous set keeps running: {messageOf(reload.error)}
          </Alert>
        )}
        {data?.last_refused_reload && (
          <Alert tone="warning">
            <p className="font-medium">
              Last refused reload, {when.format(data.last_refused_reload.at)}
            </p>
            <p className="mt-1 font-mono text-xs break-words whitespace-pre-wrap">
              {data.last_refused_reload.error}
            </p>
          </Alert>
        )}

        {plugins.isPending && <Loading label="Loading the plugins" />}
        {plugins.isError && !refused && (
          <QueryError error={plugins.error} retry={() => void plugins.refetch()} />
        )}
        {data &&
          bySlot(data.plugins).map(([slot, list]) => (
            <section key={slot} aria-label={`Slot ${slot}`} className="space-y-3">
              <h2 className="text-sm font-semibold tracking-wide text-purple-300 uppercase">
                {slot}
              </h2>
              <div className="grid gap-3 lg:grid-cols-2">
                {list.map((plugin) => (
                  <PluginCard key={`${slot}:${plugin.name}`} plugin={plugin} />
                ))}
              </div>
            </section>
          ))}
        {data && data.disabled.length > 0 && (
          <section aria-labelledby="disabled-title" className="space-y-2">
            <h2
              id="disabled-title"
              className="text-sm font-semibold tracking-wide text-gray-400 uppercase"
            >
              Disabled in config
            </h2>
            <ul className="space-y-1 text-sm text-gray-400">
              {data.disabled.map((d) => (
                <li key={d.name}>
                  <span className="font-mono text-gray-200">{d.name}</span>{' '}
                  <span className="font-mono text-xs break-all text-gray-600">{d.path}</span>
                </li>
              ))}
            </ul>
          </section>
        )}

        <DeadJobs />
      </div>
    </div>
  )
}
