import { afterEach, beforeEach, vi, type MockInstance } from 'vitest'

// As in the Epic Stack: a console.error during a test is a failure, not noise.
let errorSpy: MockInstance<typeof console.error> | undefined
beforeEach(() => {
  errorSpy = vi.spyOn(console, 'error')
})
afterEach(() => {
  const calls = errorSpy?.mock.calls ?? []
  errorSpy?.mockRestore()
  if (calls.length > 0) throw new Error(`console.error was called: ${calls.map((c) => c.map(String).join(' ')).join(' | ')}`)
})
