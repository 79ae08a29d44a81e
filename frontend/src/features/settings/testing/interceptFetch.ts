/**
 * Import this FIRST in a test file (before anything that loads `@/lib/api/client`).
 *
 * openapi-fetch keeps the `fetch` it finds when `createClient` runs, i.e. when the client
 * module is imported, and the shared setup only starts MSW in `beforeAll`, later: the client
 * would then hold Node's own fetch and every call would miss the mocks. Starting MSW here,
 * before the client module loads, makes the client hold MSW's fetch; the setup's own
 * `listen()` becomes a no-op for this file (MSW refuses to be started twice), and its
 * `afterAll` still closes it. (The lasting fix is in `client.ts`: pass
 * `fetch: (request) => globalThis.fetch(request)` to `createClient`.)
 */
import { server } from '@/test/server'

server.listen({ onUnhandledRequest: 'error' })
server.listen = () => {}
