import { Alert, Anchor, Badge, Button, Group, SegmentedControl, Stack, Text, TextInput } from '@mantine/core'
import { useQuery } from '@tanstack/react-query'
import { type FormEvent, useState } from 'react'
import { DataList } from '../../components/data-list.tsx'
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
          <DataList
            rows={result.data.assignments}
            rowKey={(a, n) => `${a.item.id}-${n}`}
            rowProps={(a) => ({ 'data-effective': a.effective })}
            testId="assignments-table"
            rowTestId="assignment-row"
            empty="Nothing is assigned to it."
            columns={[
              {
                key: 'object',
                label: 'Object',
                cell: (a) => (
                  <>
                    <Anchor component={Link} to={a.item.link} size="sm">
                      <LongName maw={320}>{a.item.display_name}</LongName>
                    </Anchor>
                    <Text size="xs" c="dimmed">
                      {a.item.policy_type}
                    </Text>
                  </>
                ),
              },
              {
                key: 'assignment',
                label: 'Assignment',
                cell: (a) => (
                  <>
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
                  </>
                ),
              },
              { key: 'intent', label: 'Intent', cell: (a) => a.intent ?? '—' },
              { key: 'through', label: 'Through', cell: (a) => (a.via_group ? a.via_group.name : VIA[a.via]) },
              {
                key: 'filter',
                label: 'Filter',
                cell: (a) => <>{a.filter ? `${a.filter.name ?? a.filter.id} (${a.filter.mode})` : '—'}</>,
              },
            ]}
          />
        </Stack>
      )}
    </Stack>
  )
}
