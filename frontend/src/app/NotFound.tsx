import { Link } from 'react-router'

export function NotFound() {
  return (
    <main className="flex min-h-full flex-col items-center justify-center gap-4 p-6 text-center">
      <h1 className="text-2xl font-bold">Page not found</h1>
      <p className="text-gray-400">There is nothing at this address.</p>
      <Link to="/chat" className="text-purple-300 underline">
        Back to the chat
      </Link>
    </main>
  )
}
