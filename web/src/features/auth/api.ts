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
