import { queryOptions, useQuery } from '@tanstack/react-query'
import { api } from '../lib/api.ts'
import type { Responses } from '../lib/api-types.ts'
import type { OperationType } from '../lib/types.ts'

/** Every operation type as the server describes it: labels, descriptions, what runs allow, failure fixes. */
export const operationTypesQuery = queryOptions({
  queryKey: ['operation-types'],
  queryFn: ({ signal }) => api<Responses['GET /api/operation-types']>('/api/operation-types', { signal }),
  staleTime: Infinity,
})

/** The operation types, and the description of one type by name (undefined while loading, or for a type the server does not know). */
export function useOperationTypes() {
  const query = useQuery(operationTypesQuery)
  const types = query.data?.data ?? []
  return { types, typeOf: (type: string): OperationType | undefined => types.find((t) => t.type === type) }
}
