import { isRouteErrorResponse, Link, useRouteError } from 'react-router'

/**
 * A route that failed to render or to load its chunk (after a deploy the old chunk names are
 * gone): say so, and offer a reload.
 */
export function RouteError() {
  const error = useRouteError()
  const message = isRouteErrorResponse(error)
    ? `${error.status} ${error.statusText}`
    : error instanceof Error
      ? error.message
      : 'Unknown error'
  return (
    <main className="flex min-h-full flex-col items-center justify-center gap-4 p-6 text-center">
      <h1 className="text-2xl font-bold">Something went wrong</h1>
      <p className="max-w-md text-gray-400">{message}</p>
      <div className="flex gap-4">
        <button
          type="button"
          onClick={() => window.location.reload()}
          className="rounded-xl bg-purple-600 px-4 py-2 font-semibold"
        >
          Reload
        </button>
        <Link to="/chat" className="self-center text-purple-300 underline">
          Back to the chat
        </Link>
      </div>
    </main>
  )
}
