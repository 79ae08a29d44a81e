import { Alert } from '@/components/Alert'
import { Button } from '@/components/Button'
import { Dialog } from '@/components/Dialog'
import { messageOf } from '@/lib/api/errors'
import { useUpdatePreferences } from '../api/preferences'

/**
 * The 18+ confirmation before intimate mode. Confirm records it and switches the mode in one
 * call; a refusal is shown here, and Cancel leaves everything as it was.
 */
export function AgeGateDialog({ open, onDone }: { open: boolean; onDone: () => void }) {
  const confirm = useUpdatePreferences()
  function close() {
    if (confirm.isPending) return
    confirm.reset()
    onDone()
  }
  return (
    <Dialog open={open} onClose={close} title="Are you 18 or older?">
      <p className="text-sm text-gray-300">
        Intimate mode is for adults. Confirm you are 18 or older.
      </p>
      <p className="text-xs text-gray-500">
        You can withdraw this confirmation at any time in Settings.
      </p>
      {confirm.error && <Alert tone="error">{messageOf(confirm.error)}</Alert>}
      <div className="flex flex-col-reverse gap-2 pt-2 sm:flex-row sm:justify-end">
        <Button variant="secondary" onClick={close} disabled={confirm.isPending}>
          Cancel
        </Button>
        <Button
          busy={confirm.isPending}
          onClick={() =>
            confirm.mutate(
              { confirm_adult: true, mode: 'intimate' },
              {
                onSuccess: () => {
                  confirm.reset()
                  onDone()
                },
              },
            )
          }
        >
          Confirm
        </Button>
      </div>
    </Dialog>
  )
}
