import { setupServer } from 'msw/node'

/** The network of component tests: each test declares the API answers it needs. */
export const server = setupServer()
