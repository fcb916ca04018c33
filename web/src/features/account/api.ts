import { queryOptions } from '@tanstack/react-query'
import { api } from '../../lib/api.ts'
import type { Page } from '../../lib/types.ts'

/** A personal API token as GET /api/tokens lists it (never the token itself). */
export type ApiToken = {
  id: string
  name: string
  display_prefix: string
  created_at: string
  last_used_at: string | null
  /** `full`, `read`, or capabilities separated by commas. */
  scope: string
  /** null: never expires. */
  expires_at: string | null
}
export type CreatedApiToken = ApiToken & { token: string }
export type TokenInput = { name: string; scope: string; expires_in_days: number | 'never' }

export const tokensQuery = queryOptions({
  queryKey: ['tokens'],
  queryFn: ({ signal }) => api<Page<ApiToken>>('/api/tokens', { signal }),
})
export const createToken = (input: TokenInput) => api<CreatedApiToken>('/api/tokens', { method: 'POST', body: input })
export const revokeToken = (tokenId: string) => api<undefined>(`/api/tokens/${tokenId}`, { method: 'DELETE' })
