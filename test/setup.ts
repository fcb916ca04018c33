import { configure } from '@testing-library/dom'
import { afterEach, beforeEach, vi, type MockInstance } from 'vitest'

// findBy… and waitFor give up after 1 s by default: a first render of a lazy page can take longer on a machine
// whose two cores are busy with other work. A safety net, not a budget (the tests wait for what they look for).
configure({ asyncUtilTimeout: 15_000 })

// As in the Epic Stack: a console.error during a test is a failure, not noise.
let errorSpy: MockInstance<typeof console.error> | undefined
beforeEach(() => {
  errorSpy = vi.spyOn(console, 'error')
})
afterEach(() => {
  const calls = errorSpy?.mock.calls ?? []
  errorSpy?.mockRestore()
  if (calls.length > 0)
    throw new Error(`console.error was called: ${calls.map((c) => c.map(String).join(' ')).join(' | ')}`)
})

// happy-dom lays nothing out, so Mantine's focus trap finds no visible (tabbable) element in an
// opened popover and warns with the whole DOM node; the browser specs cover focus for real.
// eslint-disable-next-line no-console -- wrapping console.warn to drop that one message
const warn = console.warn.bind(console)
// eslint-disable-next-line no-console -- as above
console.warn = (...args: unknown[]) => {
  if (typeof args[0] === 'string' && args[0].startsWith('[@mantine/hooks/use-focus-trap]')) return
  warn(...args)
}
