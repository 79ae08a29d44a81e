import { Download } from 'lucide-react'

import { Alert } from '@/components/Alert'
import { Button } from '@/components/Button'
import { messageOf } from '@/lib/api/errors'
import { useExportCard, type Persona } from '../api/personas'

const formats = [
  { format: 'v3', label: 'JSON (V3)' },
  { format: 'v2', label: 'JSON (V2)' },
  { format: 'png', label: 'PNG card' },
] as const

/** Downloads the persona as a Character Card, in the format the other app reads. */
export function ExportMenu({ persona }: { persona: Persona }) {
  const exportCard = useExportCard()
  const pending = exportCard.isPending ? exportCard.variables.format : null
  return (
    <div className="space-y-2">
      <div role="group" aria-label="Export the card" className="flex flex-wrap items-center gap-2">
        <Download aria-hidden className="h-4 w-4 text-gray-400" />
        {formats.map(({ format, label }) => (
          <Button
            key={format}
            variant="secondary"
            className="px-3 py-1.5 text-xs"
            busy={pending === format}
            disabled={exportCard.isPending}
            aria-label={`Export as ${label}`}
            onClick={() => exportCard.mutate({ persona, format })}
          >
            {label}
          </Button>
        ))}
      </div>
      {exportCard.error && <Alert>Could not export the card: {messageOf(exportCard.error)}</Alert>}
    </div>
  )
}
