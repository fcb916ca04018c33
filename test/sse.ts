/**
 * Opens a Server-Sent Events stream and calls `onEvent` for every event that has a name and
 * data, as it arrives (used by the live tests and the SSE latency benchmark).
 */
export async function openEventStream(url: string, token: string, onEvent: (event: string, data: unknown) => void) {
  const controller = new AbortController()
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal })
  if (response.ok && response.body) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
    void (async () => {
      let buffer = ''
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: '', done: true }))
        if (done) return
        buffer += value
        let end: number
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const event = /^event: (.+)$/m.exec(block)?.[1]
          const data = /^data: (.+)$/m.exec(block)?.[1]
          if (event && data) onEvent(event, JSON.parse(data))
        }
      }
    })()
  }
  return { response, close: () => controller.abort() }
}
