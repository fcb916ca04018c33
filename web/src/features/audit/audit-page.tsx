import { Anchor, Button, Code, Collapse, Group, Select, Stack, Text, TextInput } from '@mantine/core'
import { useDebouncedValue } from '@mantine/hooks'
import { infiniteQueryOptions, useInfiniteQuery } from '@tanstack/react-query'
import { useEffect, useState } from 'react'
import { LongName } from '../../components/long-name.tsx'
import { useOperationTypes } from '../../components/operation-types.ts'
import { DataList, useListFilters } from '../../components/data-list.tsx'
import { PageTitle } from '../../components/states.tsx'
import { api } from '../../lib/api.ts'
import { formatDateTime } from '../../lib/format.ts'
import { Link } from '../../lib/router.tsx'
import type { AuditEvent, MeTenant, Page } from '../../lib/types.ts'
import { ACTION_DOMAINS, auditCsv, auditSentence, subjectLink } from './audit-sentences.ts'

export type AuditFilters = { actor: string; action: string | null; since: string; until: string }

/** The API's query for the filters: dates (yyyy-mm-dd, the viewer's day) as instants; `until` includes its day. */
export function auditQueryParams(f: AuditFilters) {
  const day = (d: string, next = false) => {
    if (!d) return undefined
    const date = new Date(`${d}T00:00:00`)
    if (Number.isNaN(date.getTime())) return undefined
    if (next) date.setDate(date.getDate() + 1)
    return date.toISOString()
  }
  return {
    actor: f.actor.trim() || undefined,
    action: f.action ?? undefined,
    since: day(f.since),
    until: day(f.until, true),
  }
}

const auditQuery = (tenantId: string, f: AuditFilters) =>
  infiniteQueryOptions({
    queryKey: ['audit', tenantId, f],
    queryFn: ({ pageParam, signal }) =>
      api<Page<AuditEvent>>(`/api/tenants/${tenantId}/audit-events`, {
        signal,
        query: { ...auditQueryParams(f), cursor: pageParam, limit: 50 },
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  })

const ACTOR_KINDS: Record<string, string> = { system: 'System', cli: 'Command line', anonymous: 'Anonymous' }

/** Who did it: a person (or their token), or the system as the server names it ("Schedule: Nightly sync"). */
export const actorLabel = (event: AuditEvent) =>
  (event.actor.kind === 'system' ? event.actor.name : null) ??
  ACTOR_KINDS[event.actor.kind] ??
  (event.actor.name ?? event.actor.email ?? 'Deleted user') + (event.actor.kind === 'token' ? ' (API token)' : '')

const EXPORT_LIMIT = 10_000

/** `/t/{tenantId}/audit`: the trail as sentences with links, filtered by who, what and when, exported as CSV. */
export function AuditPage({ tenant }: { tenant: MeTenant }) {
  // The filters live in the query string (a filtered trail is a link); the name box updates it after a pause.
  const list = useListFilters(['actor', 'action', 'since', 'until'] as const)
  const [actorInput, setActorInput] = useState(() => list.values.actor ?? '')
  const [actor] = useDebouncedValue(actorInput, 300)
  const setList = list.set
  useEffect(() => setList({ actor: actor.trim() || null }), [actor]) // eslint-disable-line react-hooks/exhaustive-deps
  const filters: AuditFilters = {
    actor: actorInput,
    action: list.values.action,
    since: list.values.since ?? '',
    until: list.values.until ?? '',
  }
  const applied = { ...filters, actor: list.values.actor ?? '' }
  const events = useInfiniteQuery(auditQuery(tenant.id, applied))
  const { typeOf } = useOperationTypes()
  const label = (type: string) => typeOf(type)?.label ?? type
  const rows = events.data?.pages.flatMap((p) => p.data) ?? []
  const [open, setOpen] = useState<string | null>(null)
  const [exporting, setExporting] = useState(false)
  const set = (patch: Partial<AuditFilters>) => {
    if (patch.actor !== undefined) setActorInput(patch.actor)
    const { actor: _actor, ...rest } = patch
    setList(Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, v || null])))
  }

  const exportCsv = async () => {
    setExporting(true)
    try {
      const all: AuditEvent[] = []
      let cursor: string | undefined
      do {
        const page = await api<Page<AuditEvent>>(`/api/tenants/${tenant.id}/audit-events`, {
          query: { ...auditQueryParams(applied), cursor, limit: 200 },
        })
        all.push(...page.data)
        cursor = page.next_cursor ?? undefined
      } while (cursor && all.length < EXPORT_LIMIT)
      const blob = new Blob([auditCsv(all, actorLabel, label)], { type: 'text/csv;charset=utf-8' })
      const a = document.createElement('a')
      a.href = URL.createObjectURL(blob)
      a.download = `audit-${tenant.name.replace(/[^\w-]+/g, '-')}.csv`
      a.click()
      URL.revokeObjectURL(a.href)
    } finally {
      setExporting(false)
    }
  }

  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end">
        <PageTitle eyebrow={tenant.name}>Audit trail</PageTitle>
        <Button variant="default" loading={exporting} onClick={() => void exportCsv()} data-testid="audit-export">
          Export CSV
        </Button>
      </Group>
      <Group align="flex-end" gap="sm" data-testid="audit-filters">
        <TextInput
          label="Who"
          placeholder="Name or e-mail"
          value={filters.actor}
          onChange={(e) => set({ actor: e.currentTarget.value })}
          w={220}
          data-testid="audit-actor"
        />
        <Select
          label="What"
          placeholder="Everything"
          data={ACTION_DOMAINS}
          value={filters.action}
          onChange={(v) => set({ action: v })}
          clearable
          w={180}
          data-testid="audit-action"
        />
        <TextInput
          label="From"
          type="date"
          value={filters.since}
          onChange={(e) => set({ since: e.currentTarget.value })}
          data-testid="audit-since"
        />
        <TextInput
          label="To"
          type="date"
          value={filters.until}
          onChange={(e) => set({ until: e.currentTarget.value })}
          data-testid="audit-until"
        />
      </Group>
      <DataList
        rows={rows}
        rowKey={(event) => event.id}
        query={events}
        testId="audit-table"
        rowTestId="audit-row"
        rowProps={(event) => ({ 'data-action': event.action })}
        loadingLabel="Loading the audit trail"
        highlightOnHover={false}
        empty="Nothing recorded yet."
        filtered={list.active}
        filteredEmpty="Nothing recorded matches these filters."
        onClearFilters={() => {
          setActorInput('')
          list.clear()
        }}
        columns={[
          { key: 'when', label: 'When', nowrap: true, cell: (event) => formatDateTime(event.created_at) },
          {
            key: 'what',
            label: 'What happened',
            cell: (event) => {
              const link = subjectLink(event, tenant.id)
              const hasDetails = Object.keys(event.metadata).length > 0
              return (
                <>
                  <Text size="sm" data-testid="audit-sentence">
                    <LongName fw={600} maw={240}>
                      {actorLabel(event)}
                    </LongName>{' '}
                    {auditSentence(event, label)}
                    {link && (
                      <>
                        {' · '}
                        <Anchor component={Link} to={link.to} size="sm">
                          {link.label}
                        </Anchor>
                      </>
                    )}
                    {hasDetails && (
                      <>
                        {' · '}
                        <Anchor
                          component="button"
                          size="sm"
                          c="dimmed"
                          onClick={() => setOpen(open === event.id ? null : event.id)}
                        >
                          {open === event.id ? 'hide raw' : 'show raw'}
                        </Anchor>
                      </>
                    )}
                  </Text>
                  <Collapse expanded={open === event.id}>
                    {open === event.id && (
                      <Code block fz="xs" mt={4}>
                        {JSON.stringify({ action: event.action, subject: event.subject, ...event.metadata }, null, 2)}
                      </Code>
                    )}
                  </Collapse>
                </>
              )
            },
          },
          { key: 'ip', label: 'IP', cell: (event) => event.ip ?? '—' },
        ]}
      />
    </Stack>
  )
}
