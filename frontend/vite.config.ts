/// <reference types="vitest/config" />
import react from '@vitejs/plugin-react'
import tailwindcss from '@tailwindcss/vite'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

// The API prefixes `npm run dev` forwards to a running host (AVA_API, default :8080). `/chat`,
// `/photos` and `/admin` are also client routes: a page navigation (Accept: text/html) stays
// with Vite, an API call goes to the host.
const api = process.env.AVA_API ?? 'http://127.0.0.1:8080'
const apiPrefixes = [
  '/auth',
  '/chat',
  '/messages',
  '/billing',
  '/avatars',
  '/preferences',
  '/photos',
  '/webhook',
  '/dev',
  '/health',
  '/admin',
  '/openapi.json',
]
const proxy = Object.fromEntries(
  apiPrefixes.map((prefix) => [
    prefix,
    {
      target: api,
      changeOrigin: false,
      bypass: (req: { method?: string; headers: { accept?: string } }) =>
        req.method === 'GET' && req.headers.accept?.includes('text/html') && prefix !== '/dev'
          ? '/index.html'
          : undefined,
    },
  ]),
)

export default defineConfig({
  plugins: [react(), tailwindcss()],
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  server: { proxy },
  build: {
    target: 'es2022',
    sourcemap: true,
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    restoreMocks: true,
  },
})
