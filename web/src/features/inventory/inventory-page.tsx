import { Anchor, Badge, Button, Checkbox, Group, Select, Stack, Switch, Text, TextInput } from '@mantine/core'
import { useDebouncedValue } from '@mantine/hooks'
import { keepPreviousData, useInfiniteQuery, useQuery } from '@tanstack/react-query'
import { useEffect, useState } from 'react'
import { policyTypesQuery } from '../../components/inventory-sync.tsx'
import { DataList } from '../../components/data-list.tsx'
import { PageTitle } from '../../components/states.tsx'
import { can } from '../../lib/capabilities.ts'
import { formatDateTime } from '../../lib/format.ts'
import { Link, useSearchParams } from '../../lib/router.tsx'
import type { MeTenant } from '../../lib/types.ts'
import {
  allLoadedSelected,
  type BulkSelection,
  EMPTY_SELECTION,
  isSelected,
  sameFilter,
  toggleItem,
  toggleLoaded,
} from '../../lib/bulk-selection.ts'
import { itemsQuery } from './api.ts'
import { selectionSummaryQuery } from './bulk-api.ts'
import { BulkActionsBar } from './bulk-actions.tsx'
import { ItemDrawer } from './item-drawer.tsx'
import { SyncModal } from './sync-modal.tsx'
import { LongName } from '../../components/long-name.tsx'

export function InventoryPage({ tenant }: { tenant: MeTenant }) {
  // Filters live in the query string: a filtered view is a link, and Back restores it.
  const [params, setParams] = useSearchParams()
  const type = params.get('type')
  const category = params.get('category')
  const includeRemoved = params.get('removed') === '1'
  const [search, setSearch] = useState(() => params.get('q') ?? '')
  const [q] = useDebouncedValue(search, 250)
  useEffect(() => setParams({ q: q.trim() || null }), [q, setParams])
  const [syncOpened, setSyncOpened] = useState(false)
  const [openItem, setOpenItem] = useState<string | null>(null)

  const catalog = useQuery(policyTypesQuery(tenant.id))
  const items = useInfiniteQuery({
    ...itemsQuery(tenant.id, { type, category, q: q.trim(), includeRemoved }),
    placeholderData: keepPreviousData,
  })
  const rows = items.data?.pages.flatMap((page) => page.data) ?? []
  const types = catalog.data?.data ?? []

  // The bulk selection: picked rows (kept across pages and filters), or everything the current filter matches.
  const [selection, setSelection] = useState<BulkSelection>(EMPTY_SELECTION)
  const filter = { type, category, q: q.trim() || null }
  if (selection.kind === 'filter' && !sameFilter(selection.filter, filter)) setSelection(EMPTY_SELECTION)
  const loadedIds = rows.filter((r) => !r.removed_at).map((r) => r.id)
  const everyLoaded = allLoadedSelected(selection, loadedIds)
  const offerFilter = selection.kind === 'items' && everyLoaded && items.hasNextPage === true
  const matching = useQuery({ ...selectionSummaryQuery(tenant.id, { kind: 'filter', filter }), enabled: offerFilter })

  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end">
        <PageTitle eyebrow={tenant.name}>Inventory</PageTitle>
        {can(tenant, 'inventory.sync') && (
          <Button data-testid="run-inventory-sync" onClick={() => setSyncOpened(true)}>
            Run inventory sync
          </Button>
        )}
      </Group>
      <Group gap="sm" align="flex-end">
        <TextInput
          label="Search"
          placeholder="Name contains…"
          value={search}
          onChange={(e) => setSearch(e.currentTarget.value)}
          w={260}
          type="search"
        />
        <Select
          label="Type"
          placeholder="Any type"
          clearable
          searchable
          data={[
            {
              group: 'Policies',
              items: types.filter((t) => t.kind === 'policy').map((t) => ({ value: t.key, label: t.label })),
            },
            {
              group: 'Foundations',
              items: types.filter((t) => t.kind === 'foundation').map((t) => ({ value: t.key, label: t.label })),
            },
            {
              group: 'Dependencies',
              items: types.filter((t) => t.kind === 'dependency').map((t) => ({ value: t.key, label: t.label })),
            },
          ].filter((g) => g.items.length > 0)}
          value={type}
          onChange={(value) => setParams({ type: value })}
          w={280}
        />
        <Select
          label="Category"
          placeholder="Any category"
          clearable
          data={catalog.data?.categories ?? []}
          value={category}
          onChange={(value) => setParams({ category: value })}
          w={200}
        />
        <Switch
          label="Show removed"
          checked={includeRemoved}
          onChange={(e) => setParams({ removed: e.currentTarget.checked ? '1' : null })}
          mb={8}
        />
      </Group>
      <BulkActionsBar tenantId={tenant.id} selection={selection} onClear={() => setSelection(EMPTY_SELECTION)} />
      {offerFilter && (
        <Group gap="xs" data-testid="select-all-matching">
          <Text size="sm">All {loadedIds.length.toLocaleString('en')} loaded items are selected.</Text>
          <Anchor component="button" type="button" size="sm" onClick={() => setSelection({ kind: 'filter', filter })}>
            {matching.data
              ? `Select all ${matching.data.item_count.toLocaleString('en')} matching this filter`
              : 'Select everything matching this filter'}
          </Anchor>
        </Group>
      )}
      <DataList
        rows={rows}
        rowKey={(item) => item.id}
        query={items}
        testId="inventory-table"
        rowTestId="inventory-row"
        loadingLabel="Loading inventory"
        minWidth={800}
        showCount
        filtered={Boolean(q || type || category)}
        filteredEmpty="No items match these filters."
        onClearFilters={() => {
          setSearch('')
          setParams({ q: null, type: null, category: null })
        }}
        empty={
          can(tenant, 'inventory.sync')
            ? 'The inventory is empty: run an inventory sync to fill it.'
            : 'The inventory is empty until someone runs the first inventory sync.'
        }
        columns={[
          {
            key: 'select',
            label: 'Select',
            width: 36,
            header: (
              <Checkbox
                aria-label="Select every loaded item"
                checked={everyLoaded}
                indeterminate={!everyLoaded && loadedIds.some((id) => isSelected(selection, id))}
                onChange={(e) => setSelection(toggleLoaded(selection, loadedIds, e.currentTarget.checked))}
                data-testid="select-loaded"
              />
            ),
            cell: (item) => (
              <Checkbox
                aria-label={`Select ${item.display_name || item.id}`}
                checked={!item.removed_at && isSelected(selection, item.id)}
                disabled={item.removed_at !== null}
                onChange={() => setSelection(toggleItem(selection, item.id, loadedIds))}
                data-testid="select-item"
              />
            ),
          },
          {
            key: 'name',
            label: 'Name',
            cell: (item) => (
              <Group gap={6} wrap="nowrap">
                <Anchor
                  component="button"
                  type="button"
                  onClick={() => setOpenItem(item.id)}
                  fw={500}
                  ta="left"
                  td={item.removed_at ? 'line-through' : undefined}
                >
                  <LongName>{item.display_name || '(no name)'}</LongName>
                </Anchor>
                <Anchor
                  component={Link}
                  to={`/t/${tenant.id}/inventory/${item.id}`}
                  size="xs"
                  data-testid="item-versions-link"
                >
                  Versions
                </Anchor>
                {item.removed_at && (
                  <Badge size="xs" color="gray" variant="outline">
                    Removed
                  </Badge>
                )}
              </Group>
            ),
          },
          { key: 'type', label: 'Type', cell: (item) => item.policy_type_label || item.policy_type },
          { key: 'category', label: 'Category', cell: (item) => item.category },
          { key: 'platform', label: 'Platform', cell: (item) => item.platform ?? '—' },
          { key: 'modified', label: 'Last modified', cell: (item) => formatDateTime(item.last_modified_at) },
        ]}
      />
      {syncOpened && <SyncModal tenantId={tenant.id} opened={syncOpened} onClose={() => setSyncOpened(false)} />}
      <ItemDrawer tenantId={tenant.id} itemId={openItem} onClose={() => setOpenItem(null)} />
    </Stack>
  )
}
