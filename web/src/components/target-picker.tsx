import { Loader, Select } from '@mantine/core'
import { useDebouncedValue } from '@mantine/hooks'
import { keepPreviousData, queryOptions, useQuery } from '@tanstack/react-query'
import { useState } from 'react'
import type { Responses } from '../lib/api-types.ts'
import { api } from '../lib/api.ts'

export type TargetKind = 'group' | 'assignment_filter' | 'scope_tag'
export type Target = Responses['GET /api/tenants/{tenantId}/targets']['data'][number]

/** The tenant's groups, filters or scope tags whose name matches `q` (groups also from Graph). */
export const targetsQuery = (tenantId: string, kind: TargetKind, q: string) =>
  queryOptions({
    queryKey: ['targets', tenantId, kind, q],
    queryFn: ({ signal }) =>
      api<Responses['GET /api/tenants/{tenantId}/targets']>(`/api/tenants/${tenantId}/targets`, {
        signal,
        query: { kind, q: q || undefined, limit: 30 },
      }),
    staleTime: 60_000,
    placeholderData: keepPreviousData,
  })

/** Broad targets that are no group ("All users", "All devices"): offered first where the action supports them. */
export type ExtraOption = { value: string; label: string }

/**
 * Pick, don't type (ADR 026): a select that searches the tenant's groups, assignment filters or
 * scope tags by name as you type. Only what the server listed can be chosen, so an id that is not
 * an object of the tenant cannot be entered; the current value keeps its label even when the
 * search no longer lists it.
 */
export function TargetPicker({
  tenantId,
  kind,
  value,
  valueLabel,
  onChange,
  extra = [],
  ...props
}: {
  tenantId: string
  kind: TargetKind
  value: string | null
  /** The label of the current value (e.g. the proposed target's name) */
  valueLabel?: string | null
  onChange: (value: string | null, label: string | null) => void
  extra?: ExtraOption[]
  label?: string
  description?: string
  placeholder?: string
  'aria-label'?: string
  'data-testid'?: string
  size?: 'xs' | 'sm'
  w?: number | string
  clearable?: boolean
  disabled?: boolean
  error?: string
}) {
  const [search, setSearch] = useState('')
  const [selectedLabel, setSelectedLabel] = useState<string | null>(
    extra.find((e) => e.value === value)?.label ?? valueLabel ?? null,
  )
  const [opened, setOpened] = useState(false)
  // The input shows the chosen object's name: that is no search.
  const [q] = useDebouncedValue(search === selectedLabel ? '' : search.trim(), 200)
  const targets = useQuery({ ...targetsQuery(tenantId, kind, q), enabled: opened })
  const options = [
    ...extra.filter((e) => !q || e.label.toLowerCase().includes(q.toLowerCase())),
    ...(targets.data?.data ?? []).map((t) => ({ value: t.id, label: t.name })),
  ]
  if (value && !options.some((o) => o.value === value))
    options.unshift({ value, label: extra.find((e) => e.value === value)?.label ?? valueLabel ?? value })
  // Two objects may share a name: the option's label stays unique for the select.
  const seen = new Map<string, number>()
  const data = options
    .filter((o, i) => options.findIndex((x) => x.value === o.value) === i)
    .map((o) => {
      const n = (seen.get(o.label) ?? 0) + 1
      seen.set(o.label, n)
      return n === 1 ? o : { ...o, label: `${o.label} (${n})` }
    })
  return (
    <Select
      {...props}
      searchable
      data={data}
      value={value}
      // The server searched already: show what it listed.
      filter={({ options: all }) => all}
      searchValue={search}
      onSearchChange={setSearch}
      onDropdownOpen={() => setOpened(true)}
      onDropdownClose={() => setOpened(false)}
      onChange={(v, option) => {
        setSelectedLabel(option?.label ?? null)
        onChange(v, option?.label ?? null)
      }}
      nothingFoundMessage={targets.isFetching ? 'Searching…' : 'Nothing by that name'}
      rightSection={targets.isFetching ? <Loader size={12} /> : undefined}
      comboboxProps={{ withinPortal: true }}
      maxDropdownHeight={280}
    />
  )
}
