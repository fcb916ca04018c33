import { Anchor, Badge, Group, Radio, Stack, Text, Title } from '@mantine/core'
import { useQuery } from '@tanstack/react-query'
import { DataList } from '../../components/data-list.tsx'
import { ErrorState, LoadingState, PageTitle } from '../../components/states.tsx'
import { formatDateTime } from '../../lib/format.ts'
import { Link, useSearchParams } from '../../lib/router.tsx'
import type { MeTenant } from '../../lib/types.ts'
import { diffQuery, itemQuery, versionsQuery } from './api.ts'
import { DiffView } from '../../components/diff-view.tsx'
import { ItemDetail } from './item-drawer.tsx'
import { ChangedBy } from './changed-by.tsx'

/**
 * One item: its details, its version timeline, and the diff of any two versions (`?from=N&to=M`
 * by number, or `?version=ID` for a version and the one before it, as the Changes page links).
 */
export function ItemPage({ tenant, itemId }: { tenant: MeTenant; itemId: string }) {
  const [params, setParams] = useSearchParams()
  const item = useQuery(itemQuery(tenant.id, itemId))
  const versions = useQuery(versionsQuery(tenant.id, itemId))
  const list = versions.data?.data ?? []
  const linked = list.find((v) => v.id === params.get('version'))
  const number = (name: 'from' | 'to') => {
    const raw = Number(params.get(name))
    return Number.isInteger(raw) && raw >= 1 ? raw : null
  }
  const to = number('to') ?? linked?.number ?? list[0]?.number ?? null
  const from = number('from') ?? (to !== null && to > 1 ? to - 1 : null)
  const diff = useQuery({ ...diffQuery(tenant.id, itemId, from, to), enabled: to !== null })

  if (item.isPending) return <LoadingState label="Loading the item" />
  if (item.isError) return <ErrorState error={item.error} />
  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end">
        <PageTitle eyebrow={tenant.name}>{item.data.display_name || '(no name)'}</PageTitle>
        <Anchor component={Link} to={`/t/${tenant.id}/inventory`} size="sm">
          Back to the inventory
        </Anchor>
      </Group>
      <Title order={3} size="h4">
        Versions
      </Title>
      <DataList
        rows={list}
        rowKey={(v) => v.id}
        testId="versions-list"
        rowTestId="version-row"
        query={versions}
        loadingLabel="Loading versions"
        verticalSpacing={4}
        empty="No versions yet."
        columns={[
          {
            key: 'from',
            label: 'From',
            cell: (v) => (
              <>
                <Radio
                  aria-label={`Compare from version ${v.number}`}
                  checked={from === v.number}
                  onChange={() => setParams({ from: String(v.number), to: String(to ?? v.number), version: null })}
                />
              </>
            ),
          },
          {
            key: 'to',
            label: 'To',
            cell: (v) => (
              <>
                <Radio
                  aria-label={`Compare to version ${v.number}`}
                  checked={to === v.number}
                  onChange={() =>
                    setParams({ to: String(v.number), from: from === null ? null : String(from), version: null })
                  }
                />
              </>
            ),
          },
          {
            key: 'version',
            label: 'Version',
            cell: (v) => (
              <>
                <Group gap={6}>
                  <Text size="sm" fw={500}>
                    Version {v.number}
                  </Text>
                  {v.number === list[0]?.number && (
                    <Badge size="xs" variant="light">
                      Latest
                    </Badge>
                  )}
                </Group>
              </>
            ),
          },
          { key: 'captured', label: 'Captured', cell: (v) => formatDateTime(v.captured_at) },
          {
            key: 'changed-by',
            label: 'Changed by',
            cell: (v) => (
              <>
                <ChangedBy tenantId={tenant.id} changedBy={v.changed_by} />
              </>
            ),
          },
        ]}
      />
      <Title order={3} size="h4">
        {from !== null && to !== null
          ? `Changes from version ${from} to ${to}`
          : to !== null
            ? `Version ${to}: everything it holds`
            : 'Changes'}
      </Title>
      {to === null ? (
        <Text c="dimmed">This item has no versions yet.</Text>
      ) : diff.isPending ? (
        <LoadingState label="Comparing versions" />
      ) : diff.isError ? (
        <ErrorState error={diff.error} />
      ) : (
        <DiffView changes={diff.data.changes} />
      )}
      <Title order={3} size="h4">
        Current state
      </Title>
      <ItemDetail item={item.data} />
    </Stack>
  )
}
