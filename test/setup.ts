import { afterEach, beforeEach, vi } from 'vitest'

// As in the Epic Stack: a console.error during a test is a failure, not noise.
let errorSpy: ReturnType<typeof vi.spyOn> | undefined
beforeEach(() => {
  errorSpy = vi.spyOn(console, 'error')
})
afterEach(() => {
  const calls = errorSpy?.mock.calls ?? []
  errorSpy?.mockRestore()
  if (calls.length > 0) throw new Error(`console.error was called: ${calls.map((c: unknown[]) => c.map(String).join(' ')).join(' | ')}`)
})
