import { MantineProvider } from '@mantine/core'
import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { render } from '@testing-library/react'
import type { ReactNode } from 'react'
import { vi } from 'vitest'

/** Renders inside the console's providers, with a fresh query cache and no retries. */
export function renderWithProviders(ui: ReactNode) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } })
  // A wrapper (not a wrapped element), so `rerender` keeps the providers.
  const wrapper = ({ children }: { children: ReactNode }) => (
    <MantineProvider>
      <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>
    </MantineProvider>
  )
  const result = render(ui, { wrapper })
  return { ...result, queryClient }
}

/** A fetch that answers by path (a function or a JSON body); anything else is a failing test. */
export function mockFetch(routes: Record<string, unknown>) {
  const fetchMock = vi.fn((input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(
      typeof input === 'string' ? input : input instanceof URL ? input.href : input.url,
      'http://localhost',
    )
    const key = `${init?.method ?? 'GET'} ${url.pathname}`
    if (!(key in routes)) return Promise.reject(new Error(`unexpected request ${key}`))
    const value = routes[key]
    const body: unknown = typeof value === 'function' ? (value as (url: URL) => unknown)(url) : value
    return Promise.resolve(
      new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } }),
    )
  })
  vi.stubGlobal('fetch', fetchMock)
  return fetchMock
}
