// A stand-in for an OpenAI-compatible server, for the persona swap of the journey: it
// streams a known reply in chunks, as `/v1/chat/completions` with `stream: true` does.
import { createServer } from 'node:http'

export const SWAPPED_REPLY = 'Hello from the swapped-in persona, streamed by a local model.'

export function startFakeOpenAI() {
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (c) => (body += c))
    req.on('end', () => {
      if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' })
        res.end('{"error":{"message":"not found"}}')
        return
      }
      const stream = JSON.parse(body || '{}').stream === true
      const words = SWAPPED_REPLY.split(/(?<= )/)
      if (!stream) {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(
          JSON.stringify({
            id: 'cmpl-1',
            object: 'chat.completion',
            choices: [
              {
                index: 0,
                message: { role: 'assistant', content: SWAPPED_REPLY },
                finish_reason: 'stop',
              },
            ],
          }),
        )
        return
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      let i = 0
      const tick = setInterval(() => {
        if (i < words.length) {
          const chunk = {
            id: 'cmpl-1',
            object: 'chat.completion.chunk',
            choices: [{ index: 0, delta: { content: words[i] } }],
          }
          res.write(`data: ${JSON.stringify(chunk)}\n\n`)
          i += 1
        } else {
          clearInterval(tick)
          res.write(
            `data: ${JSON.stringify({ id: 'cmpl-1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`,
          )
          res.end('data: [DONE]\n\n')
        }
      }, 40)
    })
  })
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      resolve({ url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r)) })
    })
  })
}
