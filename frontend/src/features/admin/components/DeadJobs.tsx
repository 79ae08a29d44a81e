import { RotateCcw } from 'lucide-react'

import { Alert } from '@/components/Alert'
import { Button } from '@/components/Button'
import { QueryError } from '@/components/QueryError'
import { Loading } from '@/components/Spinner'
import { messageOf } from '@/lib/api/errors'
import { useDeadJobs, useRetryJob } from '../api/admin'

const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' })

/** The jobs that ran out of attempts, with why, and a way to queue each again. */
export function DeadJobs() {
  const jobs = useDeadJobs()
  const retry = useRetryJob()
  return (
    <section aria-labelledby="dead-title" className="space-y-3">
      <h2 id="dead-title" className="text-lg font-semibold">
        Dead jobs
      </h2>
      {retry.error && <Alert>Could not retry: {messageOf(retry.error)}</Alert>}
      {jobs.isPending && <Loading label="Loading the dead jobs" />}
      {jobs.isError && <QueryError error={jobs.error} retry={() => void jobs.refetch()} />}
      {jobs.data?.jobs.length === 0 && (
        <p className="rounded-2xl border border-gray-800 bg-gray-900 p-4 text-sm text-gray-400">
          No dead jobs: every job ran or is still queued.
        </p>
      )}
      {jobs.data && jobs.data.jobs.length > 0 && (
        <ul className="space-y-2">
          {jobs.data.jobs.map((job) => (
            <li
              key={job.id}
              className="flex flex-wrap items-start gap-3 rounded-2xl border border-gray-800 bg-gray-900 p-4"
            >
              <div className="min-w-0 flex-1 space-y-1">
                <p className="text-sm font-semibold">
                  {job.kind}{' '}
                  <span className="font-mono text-xs font-normal text-gray-500">{job.id}</span>
                </p>
                <p className="text-sm break-words text-red-300">{job.reason}</p>
                <p className="text-xs text-gray-500">
                  {job.attempts} {job.attempts === 1 ? 'attempt' : 'attempts'} · queued{' '}
                  {when.format(job.enqueued_at)} · died {when.format(job.died_at)}
                </p>
              </div>
              <Button
                variant="secondary"
                busy={retry.isPending && retry.variables === job.id}
                onClick={() => retry.mutate(job.id)}
                aria-label={`Retry job ${job.id}`}
              >
                <RotateCcw aria-hidden className="h-4 w-4" />
                Retry
              </Button>
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}
