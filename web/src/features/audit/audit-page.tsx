import { Button, Code, Group, Stack, Table, Text } from '@mantine/core'
import { infiniteQueryOptions, useInfiniteQuery } from '@tanstack/react-query'
import { EmptyText, ErrorState, LoadingState, PageTitle } from '../../components/states.tsx'
import { api } from '../../lib/api.ts'
import { formatDateTime } from '../../lib/format.ts'
import type { AuditEvent, MeTenant, Page } from '../../lib/types.ts'
import { LongName } from '../../components/long-name.tsx'

const auditQuery = (tenantId: string) =>
  infiniteQueryOptions({
    queryKey: ['audit', tenantId],
    queryFn: ({ pageParam, signal }) =>
      api<Page<AuditEvent>>(`/api/tenants/${tenantId}/audit-events`, {
        signal,
        query: { cursor: pageParam, limit: 50 },
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

export function AuditPage({ tenant }: { tenant: MeTenant }) {
  const events = useInfiniteQuery(auditQuery(tenant.id))
  const rows = events.data?.pages.flatMap((p) => p.data) ?? []
  return (
    <Stack gap="md">
      <PageTitle eyebrow={tenant.name}>Audit trail</PageTitle>
      {events.isPending ? (
        <LoadingState label="Loading the audit trail" />
      ) : events.isError ? (
        <ErrorState error={events.error} />
      ) : (
        <>
          <Table.ScrollContainer minWidth={900}>
            <Table striped verticalSpacing={6} data-testid="audit-table">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>When</Table.Th>
                  <Table.Th>Who</Table.Th>
                  <Table.Th>Action</Table.Th>
                  <Table.Th>Subject</Table.Th>
                  <Table.Th>Details</Table.Th>
                  <Table.Th>IP</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rows.map((event) => (
                  <Table.Tr key={event.id} data-testid="audit-row">
                    <Table.Td style={{ whiteSpace: 'nowrap' }}>{formatDateTime(event.created_at)}</Table.Td>
                    <Table.Td style={{ whiteSpace: 'nowrap' }}>
                      <LongName maw={240}>{actorLabel(event)}</LongName>
                    </Table.Td>
                    <Table.Td>
                      <Code>{event.action}</Code>
                    </Table.Td>
                    <Table.Td>
                      {event.subject ? `${event.subject.type} ${event.subject.id.slice(0, 8)}…` : '—'}
                    </Table.Td>
                    <Table.Td>
                      <Text
                        size="xs"
                        ff="monospace"
                        lineClamp={3}
                        title={JSON.stringify(event.metadata)}
                        maw={420}
                        style={{ wordBreak: 'break-all' }}
                      >
                        {Object.keys(event.metadata).length > 0 ? JSON.stringify(event.metadata) : '—'}
                      </Text>
                    </Table.Td>
                    <Table.Td>{event.ip ?? '—'}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
          {rows.length === 0 && <EmptyText>Nothing recorded yet.</EmptyText>}
          {events.hasNextPage && (
            <Group justify="center">
              <Button variant="default" onClick={() => void events.fetchNextPage()} loading={events.isFetchingNextPage}>
                Load more
              </Button>
            </Group>
          )}
        </>
      )}
    </Stack>
  )
}
