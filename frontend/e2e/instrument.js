// Injected into every page of the journey (page.addInitScript): timestamps, by the page's
// own clock, of what the figures in docs/BENCHMARKS.md measure. Nothing here changes what
// the app does.
//
// - Every chunk read from a server-sent event stream (the SPA reads /chat/stream and
//   /photos/events with fetch): when it arrived and which events it carried.
// - For each `delta` chunk: the first animation frame whose DOM shows its text (the frame
//   is painted right after), so "painted ≤ 50 ms after it arrives" is frame − arrival.
// - For each `photo` event of a ready photo: the first frame showing a newly loaded blob
//   image.
;(() => {
  const ava = (window.__ava = { chunks: [], deltas: [], photos: [], marks: {} })
  const read = ReadableStreamDefaultReader.prototype.read
  const snippetOf = (text) => {
    const words = text
      .replace(/[^\p{L}\p{N}]+/gu, ' ')
      .trim()
      .split(' ')
      .filter(Boolean)
    return words.slice(-2).join(' ')
  }
  const logText = () =>
    (document.querySelector('[role="log"]')?.textContent ?? '').replace(/[^\p{L}\p{N}]+/gu, ' ')
  const blobImages = () =>
    [...document.querySelectorAll('img')].filter(
      (img) => img.src.startsWith('blob:') && img.complete && img.naturalWidth > 0,
    )
  const seenImages = new WeakSet()
  const watch = (check, done) => {
    const started = performance.now()
    const frame = (t) => {
      if (check()) return done(t)
      if (performance.now() - started < 5000) requestAnimationFrame(frame)
    }
    requestAnimationFrame(frame)
  }
  ReadableStreamDefaultReader.prototype.read = async function (...args) {
    const result = await read.apply(this, args)
    if (result.done || result.value == null) return result
    const text = typeof result.value === 'string' ? result.value : ''
    if (!text.includes('event:')) return result
    const at = performance.now()
    // One event a block; its lines (event, id, data) in any order.
    const events = text
      .split(/\n\n/)
      .map((block) => ({
        name: /^event: ?(\w+)$/m.exec(block)?.[1],
        data: /^data: ?(.*)$/m.exec(block)?.[1] ?? '',
      }))
      .filter((e) => e.name)
    ava.chunks.push({ at, events: events.map((e) => e.name) })
    for (const event of events) {
      if (event.name === 'delta') {
        let delta = ''
        try {
          delta = JSON.parse(event.data).text ?? ''
        } catch {
          // not JSON: not ours
        }
        const snippet = snippetOf(delta)
        if (!snippet) continue
        const entry = { at, snippet, painted: null }
        ava.deltas.push(entry)
        watch(
          () => logText().includes(snippet),
          (t) => (entry.painted = t),
        )
      }
      if (event.name === 'photo' && event.data.includes('"ready"')) {
        for (const img of blobImages()) seenImages.add(img)
        const entry = { at, shown: null }
        ava.photos.push(entry)
        watch(
          () => blobImages().some((img) => !seenImages.has(img)),
          (t) => (entry.shown = t),
        )
      }
    }
    return result
  }
  // "Usable": the first frame whose message log shows the text the test waits for (set by
  // the test in sessionStorage before it reloads the chat page).
  const expected = sessionStorage.getItem('ava.e2e.expectInLog')
  if (expected) {
    sessionStorage.removeItem('ava.e2e.expectInLog')
    watch(
      () => logText().includes(snippetOf(expected)),
      (t) => (ava.marks.historyShown = t),
    )
  }
})()
