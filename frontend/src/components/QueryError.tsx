import { messageOf } from '@/lib/api/errors'
import { Alert } from './Alert'
import { Button } from './Button'

/** A query's failure, with the API's detail and a way to try again. */
export function QueryError({ error, retry }: { error: unknown; retry?: () => void }) {
  return (
    <Alert
      tone="error"
      className="m-4"
      action={
        retry && (
          <Button variant="secondary" onClick={retry}>
            Try again
          </Button>
        )
      }
    >
      {messageOf(error)}
    </Alert>
  )
}
