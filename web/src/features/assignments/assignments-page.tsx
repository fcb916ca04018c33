import { Alert, Anchor, Badge, Button, Group, SegmentedControl, Stack, Table, Text, TextInput } from '@mantine/core'
import { useQuery } from '@tanstack/react-query'
import { type FormEvent, useState } from 'react'
import { LongName } from '../../components/long-name.tsx'
import { EmptyText, ErrorState, LoadingState, PageTitle } from '../../components/states.tsx'
import { Link, useSearchParams } from '../../lib/router.tsx'
import type { MeTenant } from '../../lib/types.ts'
import { assignmentsQuery, type SubjectQuery } from './api.ts'

const KINDS = [
  { value: 'user', label: 'User (UPN)', param: 'user', placeholder: 'alice@contoso.com' },
  { value: 'device', label: 'Device (name)', param: 'device', placeholder: 'PC-01' },
  { value: 'group', label: 'Group (id)', param: 'group_id', placeholder: 'Entra group object id' },
] as const
type Kind = (typeof KINDS)[number]['value']

const VIA: Record<string, string> = { all_users: 'All users', all_devices: 'All devices' }

/** `/t/{tenantId}/assignments`: everything assigned to a group, a user or a device, through nested groups. */
export function AssignmentsPage({ tenant }: { tenant: MeTenant }) {
  const [params, setParams] = useSearchParams()
  const current = KINDS.find((k) => params.get(k.param)) ?? KINDS[0]
  const [kind, setKind] = useState<Kind>(current.value)
  const [text, setText] = useState(params.get(current.param) ?? '')
  const subject: SubjectQuery = Object.fromEntries(
    KINDS.flatMap((k) => (params.get(k.param) ? [[k.param, params.get(k.param)!]] : [])),
  )
  const result = useQuery(assignmentsQuery(tenant.id, subject))
  const spec = KINDS.find((k) => k.value === kind)!

  const submit = (event: FormEvent) => {
    event.preventDefault()
    setParams({ user: null, device: null, group_id: null, [spec.param]: text.trim() || null })
  }

  return (
    <Stack gap="md">
      <PageTitle eyebrow={tenant.name}>What reaches this</PageTitle>
      <form onSubmit={submit}>
        <Group align="flex-end" gap="sm">
          <SegmentedControl
            value={kind}
            onChange={(v) => setKind(v)}
            data={KINDS.map((k) => ({ value: k.value, label: k.label }))}
          />
          <TextInput
            label={spec.label}
            placeholder={spec.placeholder}
            value={text}
            onChange={(e) => setText(e.currentTarget.value)}
            w={340}
            data-testid="assignments-subject"
          />
          <Button type="submit">Resolve</Button>
        </Group>
      </form>
      {!result.isEnabled ? (
        <EmptyText>Name a user, a device or a group to see every policy, app and script that reaches it.</EmptyText>
      ) : result.isPending ? (
        <LoadingState label="Resolving" />
      ) : result.isError ? (
        <ErrorState error={result.error} title="Could not resolve" />
      ) : (
        <Stack gap="sm">
          {result.data.warnings.map((w) => (
            <Alert key={w.code + w.message} color="yellow" title="Partial answer">
              {w.message}
            </Alert>
          ))}
          <Text size="sm">
            <b>{result.data.subject.name}</b> is in {result.data.groups.length} group
            {result.data.groups.length === 1 ? '' : 's'}
            {result.data.groups.length > 0 ? `: ${result.data.groups.map((g) => g.name).join(', ')}` : ''}.
          </Text>
          {result.data.assignments.length === 0 ? (
            <EmptyText>Nothing is assigned to it.</EmptyText>
          ) : (
            <Table striped verticalSpacing={6} data-testid="assignments-table">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Object</Table.Th>
                  <Table.Th>Assignment</Table.Th>
                  <Table.Th>Intent</Table.Th>
                  <Table.Th>Through</Table.Th>
                  <Table.Th>Filter</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {result.data.assignments.map((a, n) => (
                  <Table.Tr key={`${a.item.id}-${n}`} data-testid="assignment-row" data-effective={a.effective}>
                    <Table.Td>
                      <Anchor component={Link} to={a.item.link} size="sm">
                        <LongName maw={320}>{a.item.display_name}</LongName>
                      </Anchor>
                      <Text size="xs" c="dimmed">
                        {a.item.policy_type}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Badge
                        size="sm"
                        variant="light"
                        color={a.kind === 'exclude' ? 'red' : a.effective ? 'green' : 'gray'}
                      >
                        {a.kind === 'exclude'
                          ? 'Excluded'
                          : a.effective
                            ? 'Included'
                            : 'Included, but excluded elsewhere'}
                      </Badge>
                    </Table.Td>
                    <Table.Td>{a.intent ?? '—'}</Table.Td>
                    <Table.Td>{a.via_group ? a.via_group.name : VIA[a.via]}</Table.Td>
                    <Table.Td>{a.filter ? `${a.filter.name ?? a.filter.id} (${a.filter.mode})` : '—'}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </Stack>
      )}
    </Stack>
  )
}
