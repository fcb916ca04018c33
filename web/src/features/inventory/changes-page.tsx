import { Anchor, Badge, Group, Select, Stack, Text } from '@mantine/core'
import { useInfiniteQuery, useQuery } from '@tanstack/react-query'
import { policyTypesQuery } from '../../components/inventory-sync.tsx'
import { LongName } from '../../components/long-name.tsx'
import { DataList } from '../../components/data-list.tsx'
import { PageTitle } from '../../components/states.tsx'
import { formatDateTime } from '../../lib/format.ts'
import { Link, useSearchParams } from '../../lib/router.tsx'
import type { ChangeKind, InventoryChange, MeTenant } from '../../lib/types.ts'
import { changesQuery } from './api.ts'
import { feedRows } from './change-groups.ts'
import { useState } from 'react'
import { ChangedBy } from './changed-by.tsx'

const KINDS: { value: ChangeKind; label: string; color: string }[] = [
  { value: 'created', label: 'Created', color: 'green' },
  { value: 'updated', label: 'Updated', color: 'blue' },
  { value: 'removed', label: 'Removed', color: 'red' },
  { value: 'restored', label: 'Restored', color: 'teal' },
]

const PERIODS = [
  { value: '1', label: 'Last 24 hours' },
  { value: '7', label: 'Last 7 days' },
  { value: '30', label: 'Last 30 days' },
]

const isKind = (value: string | null): value is ChangeKind => KINDS.some((k) => k.value === value)

/** Where an entry opens: the item page with the entry's version diffed against the one before. */
const entryLink = (tenantId: string, change: InventoryChange) =>
  `/t/${tenantId}/inventory/${change.item_id}${change.version_id ? `?version=${change.version_id}` : ''}`

/** The change history: what was created, updated, removed or restored, and who did it. */
export function ChangesPage({ tenant }: { tenant: MeTenant }) {
  const [params, setParams] = useSearchParams()
  const type = params.get('type')
  const kindParam = params.get('kind')
  const kind = isKind(kindParam) ? kindParam : null
  const days = params.get('days')
  // Whole minutes, so the query key (and the cache) stays the same while the page is open.
  const since = days
    ? new Date(Math.floor(Date.now() / 60_000) * 60_000 - Number(days) * 86_400_000).toISOString()
    : null
  const catalog = useQuery(policyTypesQuery(tenant.id))
  const changes = useInfiniteQuery(changesQuery(tenant.id, { type, kind, since }))
  const rows = changes.data?.pages.flatMap((p) => p.data) ?? []
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set())
  const display = feedRows(rows, expanded)
  const labels = new Map((catalog.data?.data ?? []).map((t) => [t.key, t.label]))

  return (
    <Stack gap="md">
      <PageTitle eyebrow={tenant.name}>Changes</PageTitle>
      <Group gap="sm" align="flex-end">
        <Select
          label="Type"
          placeholder="Any type"
          clearable
          searchable
          data={(catalog.data?.data ?? []).map((t) => ({ value: t.key, label: t.label }))}
          value={type}
          onChange={(v) => setParams({ type: v })}
          w={280}
        />
        <Select
          label="Change"
          placeholder="Any change"
          clearable
          data={KINDS}
          value={kind}
          onChange={(v) => setParams({ kind: v })}
          w={180}
        />
        <Select
          label="Period"
          placeholder="Any time"
          clearable
          data={PERIODS}
          value={days}
          onChange={(v) => setParams({ days: v })}
          w={180}
        />
      </Group>
      <DataList
        rows={display}
        shownCount={rows.length}
        rowKey={(r) => r.id}
        query={changes}
        testId="changes-table"
        rowTestId="change-row"
        loadingLabel="Loading changes"
        minWidth={800}
        showCount
        empty="No changes yet: they appear after the first inventory sync."
        filtered={Boolean(type || kind || days)}
        filteredEmpty="No changes match these filters."
        onClearFilters={() => setParams({ type: null, kind: null, days: null })}
        columns={[
          {
            key: 'detected',
            label: 'Detected',
            nowrap: true,
            cell: (r) => formatDateTime(r.kind === 'change' ? r.change.detected_at : r.changes[0]!.detected_at),
          },
          {
            key: 'item',
            label: 'Item',
            cell: (r) =>
              r.kind === 'found' ? (
                <Text size="sm" data-testid="change-group">
                  Inventory sync found {r.changes.length.toLocaleString('en')}
                  {changes.hasNextPage && r === display[display.length - 1] ? '+' : ''} objects already in the tenant{' '}
                  <Anchor
                    component="button"
                    type="button"
                    size="sm"
                    onClick={() => setExpanded((set) => new Set(set).add(r.id))}
                  >
                    show them
                  </Anchor>
                </Text>
              ) : (
                <Anchor component={Link} to={entryLink(tenant.id, r.change)} fw={500}>
                  <LongName>{r.change.display_name || '(no name)'}</LongName>
                </Anchor>
              ),
          },
          {
            key: 'type',
            label: 'Type',
            cell: (r) =>
              r.kind === 'found'
                ? `${new Set(r.changes.map((c) => c.policy_type)).size} types`
                : (labels.get(r.change.policy_type) ?? r.change.policy_type),
          },
          {
            key: 'kind',
            label: 'Change',
            cell: (r) => {
              const k = KINDS.find((x) => x.value === (r.kind === 'found' ? 'created' : r.change.kind))!
              return (
                <Badge size="sm" variant="light" color={k.color}>
                  {r.kind === 'found' ? 'Found' : k.label}
                </Badge>
              )
            },
          },
          {
            key: 'by',
            label: 'Changed by',
            cell: (r) =>
              r.kind === 'found' ? (
                <Anchor component={Link} to={`/t/${tenant.id}/operations/${r.runId}`} size="sm">
                  the sync run
                </Anchor>
              ) : (
                <ChangedBy tenantId={tenant.id} changedBy={r.change.changed_by} />
              ),
          },
        ]}
      />
    </Stack>
  )
}
