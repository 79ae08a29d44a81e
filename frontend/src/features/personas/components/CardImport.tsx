import { Upload } from 'lucide-react'
import { useId, useRef, useState, type DragEvent } from 'react'

import { Alert } from '@/components/Alert'
import { Spinner } from '@/components/Spinner'
import { messageOf } from '@/lib/api/errors'
import { useImportCard, type Persona } from '../api/personas'

/** Imports a Character Card (V2/V3 JSON or PNG) picked or dropped here. */
export function CardImport({ onImported }: { onImported: (persona: Persona) => void }) {
  const importCard = useImportCard()
  const [over, setOver] = useState(false)
  const input = useRef<HTMLInputElement>(null)
  const id = useId()

  const take = (file: File | undefined) => {
    if (!file) return
    importCard.mutate(file, { onSuccess: onImported })
  }
  const drop = (event: DragEvent) => {
    event.preventDefault()
    setOver(false)
    take(event.dataTransfer.files[0])
  }

  return (
    <div className="space-y-2">
      <div
        onDragOver={(e) => {
          e.preventDefault()
          setOver(true)
        }}
        onDragLeave={() => setOver(false)}
        onDrop={drop}
        className={`flex flex-col items-center gap-2 rounded-2xl border-2 border-dashed p-5 text-center text-sm transition-colors ${over ? 'border-purple-400 bg-purple-950/40' : 'border-gray-700 bg-gray-900/60'}`}
      >
        {importCard.isPending ? (
          <Spinner label="Importing the card" />
        ) : (
          <Upload aria-hidden className="h-6 w-6 text-purple-300" />
        )}
        <p className="text-gray-300">
          Drop a Character Card here, or{' '}
          <label
            htmlFor={id}
            className="cursor-pointer font-medium text-purple-300 underline has-[:focus-visible]:outline-2"
          >
            choose a file
          </label>
        </p>
        <p className="text-xs text-gray-500">V2 or V3 cards, as JSON or PNG, up to 20 MB.</p>
        <input
          ref={input}
          id={id}
          type="file"
          accept=".json,.png,application/json,image/png"
          aria-label="Import a Character Card"
          className="sr-only"
          disabled={importCard.isPending}
          onChange={(e) => {
            take(e.target.files?.[0])
            e.target.value = ''
          }}
        />
      </div>
      {importCard.error && <Alert>Could not import the card: {messageOf(importCard.error)}</Alert>}
    </div>
  )
}
