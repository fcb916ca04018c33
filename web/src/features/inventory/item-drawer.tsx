import { Anchor, Badge, Code, Drawer, Group, ScrollArea, SimpleGrid, Stack, Text, Title } from '@mantine/core'
import { useQuery } from '@tanstack/react-query'
import { DataList } from '../../components/data-list.tsx'
import { ErrorState, LoadingState } from '../../components/states.tsx'
import { formatDateTime } from '../../lib/format.ts'
import type { Assignment, InventoryItemDetail } from '../../lib/types.ts'
import { itemQuery } from './api.ts'
import { Link } from '../../lib/router.tsx'
import { LongName, wrapAnywhere } from '../../components/long-name.tsx'

const TARGETS: Record<string, string> = {
  allDevices: 'All devices',
  allLicensedUsers: 'All users',
  allUsers: 'All users',
  group: 'Group',
  exclusionGroup: 'Group (excluded)',
}

/** What an assignment targets, in words: a group by name, or "All devices". */
export function assignmentTarget(a: Assignment): string {
  if (a.target_type === 'group' || a.target_type === 'exclusionGroup') {
    // A deleted group has no name any more: its id is what an admin can still search for.
    const name = a.group_name ?? (a.group_id ? `Group ${a.group_id}` : 'Unknown group')
    return a.target_type === 'exclusionGroup' ? `Excluded: ${name}` : name
  }
  return TARGETS[a.target_type] ?? a.target_type
}

export function ItemDrawer({
  tenantId,
  itemId,
  onClose,
}: {
  tenantId: string
  itemId: string | null
  onClose: () => void
}) {
  const item = useQuery({ ...itemQuery(tenantId, itemId ?? ''), enabled: itemId !== null })
  return (
    <Drawer
      opened={itemId !== null}
      onClose={onClose}
      position="right"
      size="xl"
      title={<span style={wrapAnywhere}>{item.data?.display_name ?? 'Item'}</span>}
      scrollAreaComponent={ScrollArea.Autosize}
    >
      {item.isPending ? (
        <LoadingState label="Loading the item" />
      ) : item.isError ? (
        <ErrorState error={item.error} />
      ) : (
        <ItemDetail item={item.data} />
      )}
    </Drawer>
  )
}

export function ItemDetail({ item }: { item: InventoryItemDetail }) {
  return (
    <Stack gap="md" data-testid="item-detail">
      <SimpleGrid cols={2} spacing="sm">
        <Meta label="Type">{item.policy_type_label || item.policy_type}</Meta>
        <Meta label="Category">{item.category}</Meta>
        <Meta label="Platform">{item.platform ?? '—'}</Meta>
        <Meta label="Last modified in Intune">{formatDateTime(item.last_modified_at)}</Meta>
        <Meta label="Graph id">
          <Code>{item.external_id}</Code>
        </Meta>
        <Meta label="Status">
          {item.removed_at ? (
            <Badge color="gray" variant="outline">
              Removed {formatDateTime(item.removed_at)}
            </Badge>
          ) : (
            'Present'
          )}
        </Meta>
      </SimpleGrid>

      <div>
        <Title order={3} size="h5" mb={4}>
          Assignments ({item.assignments.length})
        </Title>
        {item.assignments.length === 0 && item.policy_type === 'group' ? (
          // A group is not assigned: things are assigned to it, through nesting too; that view answers.
          <Anchor
            component={Link}
            to={`/t/${item.tenant_id}/assignments?group_id=${encodeURIComponent(item.external_id)}`}
            size="sm"
          >
            What reaches this group
          </Anchor>
        ) : (
          <DataList
            rows={item.assignments}
            rowKey={(a, i) => `${a.target_type}-${a.group_id ?? ''}-${i}`}
            testId="item-assignments"
            verticalSpacing={4}
            empty="Not assigned."
            columns={[
              {
                key: 'target',
                label: 'Target',
                cell: (a) => (
                  <>
                    <Group gap={6} wrap="nowrap">
                      <Text size="sm">{assignmentTarget(a)}</Text>
                      {a.orphaned && (
                        <Badge
                          color="red"
                          size="sm"
                          variant="light"
                          data-testid="orphaned-group"
                          title="The group no longer exists in Entra ID"
                        >
                          Deleted group
                        </Badge>
                      )}
                    </Group>
                  </>
                ),
              },
              { key: 'intent', label: 'Intent', cell: (a) => a.intent ?? '—' },
              {
                key: 'filter',
                label: 'Filter',
                cell: (a) => <>{a.filter_id ? `${a.filter_type ?? 'filter'}: ${a.filter_name ?? a.filter_id}` : '—'}</>,
              },
            ]}
          />
        )}
      </div>

      {item.references.length > 0 && (
        <div>
          <Title order={3} size="h5" mb={4}>
            References ({item.references.length})
          </Title>
          <Stack gap={2}>
            {item.references.map((r, i) => (
              <Group key={`${r.kind}-${r.target_external_id}-${i}`} gap={6}>
                <Badge size="xs" variant="light">
                  {r.kind}
                </Badge>
                <Text size="sm">
                  <LongName>{r.display_name ?? r.target_external_id}</LongName>
                </Text>
                {r.orphaned && (
                  <Badge size="xs" color="red" variant="light">
                    Missing
                  </Badge>
                )}
              </Group>
            ))}
          </Stack>
        </div>
      )}

      <div>
        <Title order={3} size="h5" mb={4}>
          Payload (normalised)
        </Title>
        <Code block data-testid="item-payload" style={{ maxHeight: 480, overflow: 'auto', fontSize: 12 }}>
          {JSON.stringify(item.payload, null, 2)}
        </Code>
        <Text size="xs" c="dimmed" mt={4}>
          Content hash <Code>{item.content_hash.slice(0, 16)}</Code>
        </Text>
      </div>
    </Stack>
  )
}

function Meta({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text size="sm" component="div">
        {children}
      </Text>
    </div>
  )
}
