import type { PluginView } from '../api/admin'

function ms(value: number | null) {
  if (value === null) return '—'
  return value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`
}

function size(bytes: number) {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`
}

/** The plugin's key-value store against its quota (`limits.kv_max_keys`, `kv_max_bytes`). */
function KvUsage({ kv }: { kv: NonNullable<PluginView['stats']['kv']> }) {
  const nearlyFull = kv.keys >= 0.9 * kv.max_keys || kv.bytes >= 0.9 * kv.max_bytes
  const refused = kv.refusals === 1 ? '1 write refused' : `${kv.refusals} writes refused`
  return (
    <p
      className={`mt-2 text-xs tabular-nums ${nearlyFull || kv.refusals > 0 ? 'text-yellow-300' : 'text-gray-400'}`}
    >
      Key-value store: {kv.keys} of {kv.max_keys} keys, {size(kv.bytes)} of {size(kv.max_bytes)}
      {kv.refusals > 0 ? ` (${refused} at the quota)` : ''}
    </p>
  )
}

function List({ label, items }: { label: string; items: string[] }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs text-gray-500">{label}</dt>
      <dd className="mt-0.5 text-xs break-words text-gray-200">
        {items.length ? items.join(', ') : 'none'}
      </dd>
    </div>
  )
}

/** One plugin: what it is, what it may reach, and how it has run since the host started. */
export function PluginCard({ plugin }: { plugin: PluginView }) {
  const { stats } = plugin
  const failing = stats.errors + stats.traps + stats.timeouts > 0
  const figures: [string, string, boolean][] = [
    ['Calls', String(stats.calls), false],
    ['Errors', String(stats.errors), stats.errors > 0],
    ['Traps', String(stats.traps), stats.traps > 0],
    ['Timeouts', String(stats.timeouts), stats.timeouts > 0],
    ['Limit hits', String(stats.limit_hits), stats.limit_hits > 0],
    ['p50', ms(stats.p50_ms), false],
    ['p99', ms(stats.p99_ms), false],
  ]
  return (
    <article
      aria-label={plugin.name}
      className="space-y-4 rounded-2xl border border-gray-800 bg-gray-900 p-4 sm:p-5"
    >
      <div className="flex flex-wrap items-start justify-between gap-2">
        <div className="min-w-0">
          <h3 className="font-mono text-base font-semibold break-all">{plugin.name}</h3>
          <p className="text-sm text-gray-400">{plugin.description}</p>
        </div>
        <span
          className={`rounded-full px-2.5 py-1 text-xs font-medium ${failing ? 'bg-yellow-900/60 text-yellow-200' : 'bg-emerald-900/50 text-emerald-200'}`}
        >
          {failing ? 'Running, with failures' : 'Running'}
        </span>
      </div>
      <dl className="grid grid-cols-2 gap-3 sm:grid-cols-4">
        <div>
          <dt className="text-xs text-gray-500">Version</dt>
          <dd className="text-sm">{plugin.version}</dd>
        </div>
        <div>
          <dt className="text-xs text-gray-500">Contract</dt>
          <dd className="text-sm break-all">{plugin.contract}</dd>
        </div>
        <div>
          <dt className="text-xs text-gray-500">World</dt>
          <dd className="text-sm">{plugin.world}</dd>
        </div>
        <div>
          <dt className="text-xs text-gray-500">sha256</dt>
          <dd className="font-mono text-sm" title={plugin.sha256}>
            {plugin.sha256.slice(0, 12)}
          </dd>
        </div>
      </dl>
      <dl className="grid gap-3 sm:grid-cols-2">
        <List label="Network hosts" items={plugin.allow_hosts} />
        <List label="Config keys" items={plugin.config_keys} />
        <List label="Secrets (names)" items={plugin.secrets} />
        <List label="Job kinds" items={plugin.job_kinds} />
        <div className="sm:col-span-2">
          <dt className="text-xs text-gray-500">Limits</dt>
          <dd className="mt-0.5 text-xs text-gray-200">{plugin.limits}</dd>
        </div>
      </dl>
      <div>
        <h4 className="mb-2 text-xs font-medium text-gray-400">Since the host started</h4>
        <dl className="grid grid-cols-4 gap-2">
          {figures.map(([label, value, bad]) => (
            <div key={label} className="rounded-lg bg-gray-950/60 px-2 py-1.5 text-center">
              <dt className="text-[11px] whitespace-nowrap text-gray-500">{label}</dt>
              <dd
                className={`text-sm font-semibold whitespace-nowrap tabular-nums ${bad ? 'text-yellow-300' : 'text-gray-100'}`}
              >
                {value}
              </dd>
            </div>
          ))}
        </dl>
        {stats.kv ? <KvUsage kv={stats.kv} /> : null}
      </div>
      <p className="font-mono text-[11px] break-all text-gray-600">{plugin.path}</p>
    </article>
  )
}
