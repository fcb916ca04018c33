import { queryOptions, useQuery } from '@tanstack/react-query'
import { api } from '../../lib/api.ts'
import type { Me } from '../../lib/types.ts'

export const meQuery = queryOptions({
  queryKey: ['me'],
  queryFn: ({ signal }) => api<Me>('/api/me', { signal }),
  staleTime: 30_000,
})

export const useMe = () => useQuery(meQuery)

export const signIn = (email: string, password: string) =>
  api<{ user: Me['user'] }>('/api/auth/sign-in', { method: 'POST', body: { email, password } })

export const signOut = () => api<undefined>('/api/auth/sign-out', { method: 'POST' })

/** Which sign-ins the server offers (`/api/auth/providers`): the password form, "Sign in with Microsoft", or both. */
export const providersQuery = queryOptions({
  queryKey: ['auth-providers'],
  queryFn: ({ signal }) => api<{ password: boolean; microsoft: boolean }>('/api/auth/providers', { signal }),
  staleTime: 60_000,
})

/** Where "Sign in with Microsoft" goes: the server's OIDC start, coming back to `next`. */
export const microsoftSignInUrl = (next: string) =>
  `/api/auth/oidc/start?${new URLSearchParams({ return_to: next }).toString()}`
