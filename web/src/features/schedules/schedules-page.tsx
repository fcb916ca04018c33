import { Anchor, Button, Group, Modal, Select, Stack, Switch, Table, Text, Textarea, TextInput } from '@mantine/core'
import { notifications } from '@mantine/notifications'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { useOperationTypes } from '../../components/operation-types.ts'
import { EmptyText, ErrorState, LoadingState, PageTitle } from '../../components/states.tsx'
import { errorMessage } from '../../lib/api.ts'
import { can } from '../../lib/capabilities.ts'
import { formatDateTime } from '../../lib/format.ts'
import { Link } from '../../lib/router.tsx'
import { outcomeLabel } from '../../lib/runs.ts'
import type { MeTenant, Schedule } from '../../lib/types.ts'
import { createSchedule, deleteSchedule, schedulesQuery, updateSchedule } from './api.ts'

const viewerTimeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone

/** `/t/{tenantId}/schedules`: the tenant's schedules, their next run in the viewer's time zone, and (for schedules.manage) changes. */
export function SchedulesPage({ tenant }: { tenant: MeTenant }) {
  const queryClient = useQueryClient()
  const schedules = useQuery(schedulesQuery(tenant.id))
  const manage = can(tenant, 'schedules.manage')
  const [creating, setCreating] = useState(false)
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['schedules', tenant.id] })
  const toggle = useMutation({
    mutationFn: (s: Schedule) => updateSchedule(tenant.id, s.id, { enabled: !s.enabled }),
    onSuccess: refresh,
    onError: (error) =>
      notifications.show({ title: 'Could not change the schedule', message: errorMessage(error), color: 'red' }),
  })
  const remove = useMutation({
    mutationFn: (s: Schedule) => deleteSchedule(tenant.id, s.id),
    onSuccess: refresh,
    onError: (error) =>
      notifications.show({ title: 'Could not delete the schedule', message: errorMessage(error), color: 'red' }),
  })

  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end">
        <PageTitle eyebrow="Monitoring">Schedules</PageTitle>
        {manage && (
          <Button onClick={() => setCreating(true)} data-testid="create-schedule">
            New schedule
          </Button>
        )}
      </Group>
      <Text size="sm" c="dimmed">
        Scheduled runs are system runs, shown as “Schedule: name” in Operations. Times are in your time zone (
        {viewerTimeZone()}).
      </Text>
      {schedules.isPending ? (
        <LoadingState label="Loading schedules" />
      ) : schedules.isError ? (
        <ErrorState error={schedules.error} />
      ) : schedules.data.data.length === 0 ? (
        <EmptyText>No schedules yet.</EmptyText>
      ) : (
        <Table.ScrollContainer minWidth={900}>
          <Table data-testid="schedules-table" striped verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Operation</Table.Th>
                <Table.Th>When</Table.Th>
                <Table.Th>Next run</Table.Th>
                <Table.Th>Last run</Table.Th>
                <Table.Th>Enabled</Table.Th>
                {manage && <Table.Th aria-label="Actions" />}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {schedules.data.data.map((s) => (
                <Table.Tr key={s.id} data-testid="schedule-row">
                  <Table.Td>
                    <Text size="sm" truncate="end" maw={240} title={s.name}>
                      {s.name}
                    </Text>
                  </Table.Td>
                  <Table.Td>{s.operation_label}</Table.Td>
                  <Table.Td>
                    <Text size="sm" ff="monospace">
                      {s.cron}
                    </Text>
                    <Text size="xs" c="dimmed">
                      {s.timezone}
                    </Text>
                  </Table.Td>
                  <Table.Td data-testid="schedule-next-run">
                    {s.next_run_at ? formatDateTime(s.next_run_at) : 'Paused'}
                    {s.blocked_reason && (
                      <Text size="xs" c="red.7" data-testid="schedule-blocked">
                        {s.blocked_reason}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>
                    {s.last_run ? (
                      <Anchor component={Link} to={s.last_run.links.view} size="sm">
                        {s.last_run.outcome
                          ? outcomeLabel(s.last_run.outcome)
                          : s.last_run.status === 'queued'
                            ? 'Queued'
                            : 'Running'}{' '}
                        · {formatDateTime(s.last_run.created_at)}
                      </Anchor>
                    ) : (
                      '—'
                    )}
                  </Table.Td>
                  <Table.Td>
                    <Switch
                      checked={s.enabled}
                      disabled={!manage}
                      onChange={() => toggle.mutate(s)}
                      aria-label={`${s.enabled ? 'Pause' : 'Resume'} ${s.name}`}
                    />
                  </Table.Td>
                  {manage && (
                    <Table.Td>
                      <Button size="xs" variant="subtle" color="red" onClick={() => remove.mutate(s)}>
                        Delete
                      </Button>
                    </Table.Td>
                  )}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {creating && <NewScheduleModal tenantId={tenant.id} onClose={() => setCreating(false)} onCreated={refresh} />}
    </Stack>
  )
}

function NewScheduleModal({
  tenantId,
  onClose,
  onCreated,
}: {
  tenantId: string
  onClose: () => void
  onCreated: () => unknown
}) {
  const schedulable = useOperationTypes().types.filter((t) => t.schedulable)
  const [name, setName] = useState('')
  const [type, setType] = useState<string | null>(null)
  const [cron, setCron] = useState('0 2 * * *')
  const [timezone, setTimezone] = useState(viewerTimeZone())
  const [input, setInput] = useState('{}')
  const create = useMutation({
    mutationFn: () => {
      let parsed: Record<string, unknown>
      try {
        parsed = JSON.parse(input) as Record<string, unknown>
      } catch {
        throw new Error('Input must be a JSON object')
      }
      return createSchedule(tenantId, { name, operation_type: type ?? '', input: parsed, cron, timezone })
    },
    onSuccess: () => {
      void onCreated()
      onClose()
    },
  })
  return (
    <Modal opened onClose={onClose} title="New schedule">
      <form
        onSubmit={(event) => {
          event.preventDefault()
          create.mutate()
        }}
      >
        <Stack gap="sm">
          <TextInput
            label="Name"
            required
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            placeholder="Nightly sync"
          />
          <Select
            label="Operation"
            required
            data={schedulable.map((t) => ({ value: t.type, label: t.label }))}
            value={type}
            onChange={setType}
          />
          <TextInput
            label="Cron expression"
            description="minute hour day-of-month month day-of-week"
            required
            value={cron}
            onChange={(e) => setCron(e.currentTarget.value)}
          />
          <TextInput
            label="Time zone"
            description="An IANA time zone, e.g. Europe/Berlin"
            required
            value={timezone}
            onChange={(e) => setTimezone(e.currentTarget.value)}
          />
          <Textarea label="Input (JSON)" rows={3} value={input} onChange={(e) => setInput(e.currentTarget.value)} />
          {create.isError && (
            <Text c="red" size="sm" role="alert">
              {errorMessage(create.error)}
            </Text>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending}>
              Create
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  )
}
