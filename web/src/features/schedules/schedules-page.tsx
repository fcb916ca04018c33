import {
  Anchor,
  Button,
  Checkbox,
  Group,
  Modal,
  NumberInput,
  SegmentedControl,
  Select,
  Stack,
  Switch,
  Text,
  Textarea,
  TextInput,
} from '@mantine/core'
import { notifications } from '@mantine/notifications'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useMemo, useState } from 'react'
import { useOperationTypes } from '../../components/operation-types.ts'
import { DataList } from '../../components/data-list.tsx'
import { PageTitle } from '../../components/states.tsx'
import { errorMessage } from '../../lib/api.ts'
import { can } from '../../lib/capabilities.ts'
import { formatDateTime } from '../../lib/format.ts'
import { Link, navigate } from '../../lib/router.tsx'
import { outcomeLabel } from '../../lib/runs.ts'
import type { Capability, MeTenant, Schedule } from '../../lib/types.ts'
import { createSchedule, deleteSchedule, runScheduleNow, schedulesQuery, updateSchedule } from './api.ts'
import {
  type Cadence,
  clockTime,
  describeCadence,
  formatInZone,
  fromCron,
  timeZones,
  toCron,
  WEEKDAYS,
} from './cadence.ts'

const viewerTimeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone

/** `/t/{tenantId}/schedules`: the tenant's schedules, their next run in the viewer's time zone, and (for schedules.manage) changes. */
export function SchedulesPage({ tenant }: { tenant: MeTenant }) {
  const queryClient = useQueryClient()
  const schedules = useQuery(schedulesQuery(tenant.id))
  const manage = can(tenant, 'schedules.manage')
  const [creating, setCreating] = useState(false)
  const [editing, setEditing] = useState<Schedule | null>(null)
  const { typeOf } = useOperationTypes()
  // Run now starts the type as the viewer: offered to those whose role may start it (the server decides again).
  const mayStart = (s: Schedule) => {
    const capability = typeOf(s.operation_type)?.capability
    return capability !== undefined && can(tenant, capability as Capability)
  }
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['schedules', tenant.id] })
  const toggle = useMutation({
    mutationFn: (s: Schedule) => updateSchedule(tenant.id, s.id, { enabled: !s.enabled }),
    onSuccess: refresh,
    onError: (error) =>
      notifications.show({ title: 'Could not change the schedule', message: errorMessage(error), color: 'red' }),
  })
  const runNow = useMutation({
    mutationFn: (s: Schedule) => runScheduleNow(tenant.id, s.id),
    onSuccess: ({ run, deduplicated }) => {
      void refresh()
      notifications.show({
        title: deduplicated ? 'Already running' : 'Started',
        message: `${run.type_label}: follow it in Operations.`,
        color: 'teal',
      })
      navigate(run.links.view)
    },
    onError: (error) => notifications.show({ title: 'Could not start it', message: errorMessage(error), color: 'red' }),
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
        Scheduled runs are system runs, shown as “Schedule: name” in Operations; “Run now” starts one as you. Each
        schedule&apos;s times are in its own time zone.
      </Text>
      <DataList
        rows={schedules.data?.data ?? []}
        rowKey={(s) => s.id}
        query={schedules}
        testId="schedules-table"
        rowTestId="schedule-row"
        loadingLabel="Loading schedules"
        minWidth={900}
        highlightOnHover={false}
        empty="No schedules yet."
        columns={[
          {
            key: 'name',
            label: 'Name',
            cell: (s) => (
              <Text size="sm" truncate="end" maw={240} title={s.name}>
                {s.name}
              </Text>
            ),
          },
          { key: 'operation', label: 'Operation', cell: (s) => s.operation_label },
          {
            key: 'when',
            label: 'When',
            testId: 'schedule-cadence',
            cell: (s) => (
              <>
                <Text size="sm">{describeCadence(s.cron, s.timezone)}</Text>
                <Text size="xs" c="dimmed" ff="monospace">
                  {s.cron}
                </Text>
              </>
            ),
          },
          {
            key: 'next',
            label: 'Next run',
            testId: 'schedule-next-run',
            cell: (s) => (
              <>
                {s.next_run_at ? formatInZone(s.next_run_at, s.timezone) : 'Paused'}
                {s.blocked_reason && (
                  <Text size="xs" c="red.7" data-testid="schedule-blocked">
                    {s.blocked_reason}
                  </Text>
                )}
              </>
            ),
          },
          {
            key: 'last',
            label: 'Last run',
            cell: (s) =>
              s.last_run ? (
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
              ),
          },
          {
            key: 'enabled',
            label: 'Enabled',
            cell: (s) => (
              <Switch
                checked={s.enabled}
                disabled={!manage}
                onChange={() => toggle.mutate(s)}
                aria-label={`${s.enabled ? 'Pause' : 'Resume'} ${s.name}`}
              />
            ),
          },
          {
            key: 'actions',
            label: 'Actions',
            cell: (s) => (
              <Group gap={4} wrap="nowrap">
                {mayStart(s) && (
                  <Button
                    size="xs"
                    variant="light"
                    loading={runNow.isPending && runNow.variables.id === s.id}
                    onClick={() => runNow.mutate(s)}
                    data-testid="schedule-run-now"
                  >
                    Run now
                  </Button>
                )}
                {manage && (
                  <Button size="xs" variant="default" onClick={() => setEditing(s)} data-testid="schedule-edit">
                    Edit
                  </Button>
                )}
                {manage && (
                  <Button size="xs" variant="subtle" color="red" onClick={() => remove.mutate(s)}>
                    Delete
                  </Button>
                )}
              </Group>
            ),
          },
        ]}
      />
      {(creating || editing) && (
        <ScheduleModal
          tenantId={tenant.id}
          schedule={editing}
          onClose={() => {
            setCreating(false)
            setEditing(null)
          }}
          onSaved={refresh}
        />
      )}
    </Stack>
  )
}

const SYNC_MODES = [
  { value: 'quick', label: 'Quick: only what is new, changed or touched since the last sync' },
  { value: 'full', label: 'Full: read everything again' },
]

/** The input of a schedulable type as a form: the types the console knows get fields, any other a JSON box. */
function InputFields({
  type,
  value,
  onChange,
}: {
  type: string | null
  value: Record<string, unknown>
  onChange: (value: Record<string, unknown>) => void
}) {
  const [raw, setRaw] = useState(false)
  const [text, setText] = useState(() => JSON.stringify(value, null, 2))
  const [rawError, setRawError] = useState<string | null>(null)
  const selection = (value.selection ?? {}) as Record<string, unknown>
  const known = type === 'inventory.sync' || type === 'backup.create' || type === 'backup.prune'
  const rawBox = (
    <Textarea
      label="Input (JSON)"
      description="As the API takes it; the server checks it when you save."
      rows={4}
      ff="monospace"
      value={text}
      error={rawError}
      onChange={(e) => {
        setText(e.currentTarget.value)
        try {
          const parsed = JSON.parse(e.currentTarget.value) as unknown
          if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object')
          setRawError(null)
          onChange(parsed as Record<string, unknown>)
        } catch {
          setRawError('Must be a JSON object')
        }
      }}
      data-testid="schedule-input-raw"
    />
  )
  if (!type) return null
  return (
    <Stack gap="xs">
      {type === 'inventory.sync' && (
        <Select
          label="Sync"
          data={SYNC_MODES}
          value={(selection.mode as string | undefined) ?? 'quick'}
          onChange={(mode) => onChange({ ...value, selection: { ...selection, mode: mode ?? 'quick' } })}
          allowDeselect={false}
          data-testid="schedule-sync-mode"
        />
      )}
      {type === 'backup.create' && (
        <TextInput
          label="Backup name"
          description="Empty: named after the date. Each backup holds the whole configuration."
          value={(value.name as string | null | undefined) ?? ''}
          onChange={(e) => onChange({ ...value, name: e.currentTarget.value || null })}
        />
      )}
      {type === 'backup.prune' && (
        <Checkbox
          label="May delete the last full backup too"
          checked={value.delete_last_full_backup === true}
          onChange={(e) => onChange(e.currentTarget.checked ? { delete_last_full_backup: true } : {})}
        />
      )}
      {(!known || raw) && rawBox}
      {known && (
        <Anchor
          component="button"
          type="button"
          size="xs"
          c="dimmed"
          onClick={() => {
            setText(JSON.stringify(value, null, 2))
            setRaw(!raw)
          }}
        >
          {raw ? 'hide raw' : 'show raw'}
        </Anchor>
      )}
    </Stack>
  )
}

/** Create or edit a schedule: a cadence from presets (or cron), a time zone from the IANA list, the input as a form. */
function ScheduleModal({
  tenantId,
  schedule,
  onClose,
  onSaved,
}: {
  tenantId: string
  schedule: Schedule | null
  onClose: () => void
  onSaved: () => unknown
}) {
  const schedulable = useOperationTypes().types.filter((t) => t.schedulable)
  const [name, setName] = useState(schedule?.name ?? '')
  const [type, setType] = useState<string | null>(schedule?.operation_type ?? null)
  const [cadence, setCadence] = useState<Cadence>(() => fromCron(schedule?.cron ?? '0 2 * * *'))
  const [timezone, setTimezone] = useState(schedule?.timezone ?? viewerTimeZone())
  const [input, setInput] = useState<Record<string, unknown>>(() => (schedule?.input as Record<string, unknown>) ?? {})
  const zones = useMemo(() => timeZones(), [])
  const cron = toCron(cadence)
  const save = useMutation({
    mutationFn: () =>
      schedule
        ? updateSchedule(tenantId, schedule.id, { name, input, cron, timezone })
        : createSchedule(tenantId, { name, operation_type: type ?? '', input, cron, timezone }),
    onSuccess: () => {
      void onSaved()
      onClose()
    },
  })
  const time = (hour: number, minute: number, set: (hour: number, minute: number) => void) => (
    <TextInput
      label="At"
      type="time"
      value={clockTime(hour, minute)}
      onChange={(e) => {
        const [h, m] = e.currentTarget.value.split(':').map(Number)
        if (Number.isInteger(h) && Number.isInteger(m)) set(h!, m!)
      }}
      w={120}
      data-testid="schedule-time"
    />
  )
  const at = cadence.kind === 'daily' || cadence.kind === 'weekly' ? cadence : { hour: 2, minute: 0 }
  return (
    <Modal opened onClose={onClose} title={schedule ? 'Edit schedule' : 'New schedule'} size="lg">
      <form
        onSubmit={(event) => {
          event.preventDefault()
          save.mutate()
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
            disabled={schedule !== null}
            data={schedulable.map((t) => ({ value: t.type, label: t.label }))}
            value={type}
            onChange={(t) => {
              setType(t)
              setInput({})
            }}
          />
          <InputFields key={type ?? ''} type={type} value={input} onChange={setInput} />
          <SegmentedControl
            data={[
              { value: 'hourly', label: 'Hourly' },
              { value: 'daily', label: 'Daily' },
              { value: 'weekly', label: 'Weekly' },
              { value: 'cron', label: 'Advanced (cron)' },
            ]}
            value={cadence.kind}
            onChange={(kind) =>
              setCadence(
                kind === 'hourly'
                  ? { kind, minute: cadence.kind === 'cron' ? 0 : cadence.minute }
                  : kind === 'daily'
                    ? { kind, hour: at.hour, minute: at.minute }
                    : kind === 'weekly'
                      ? { kind, day: 1, hour: at.hour, minute: at.minute }
                      : { kind: 'cron', cron },
              )
            }
            data-testid="schedule-cadence-kind"
          />
          <Group align="flex-end" gap="sm">
            {cadence.kind === 'hourly' && (
              <NumberInput
                label="At minute"
                min={0}
                max={59}
                value={cadence.minute}
                onChange={(v) => setCadence({ kind: 'hourly', minute: Math.min(59, Math.max(0, Number(v) || 0)) })}
                w={120}
              />
            )}
            {cadence.kind === 'weekly' && (
              <Select
                label="On"
                data={WEEKDAYS.map((d, i) => ({ value: String(i), label: d }))}
                value={String(cadence.day)}
                onChange={(d) => setCadence({ ...cadence, day: Number(d ?? 1) })}
                allowDeselect={false}
                w={150}
              />
            )}
            {cadence.kind === 'daily' &&
              time(cadence.hour, cadence.minute, (hour, minute) => setCadence({ kind: 'daily', hour, minute }))}
            {cadence.kind === 'weekly' &&
              time(cadence.hour, cadence.minute, (hour, minute) => setCadence({ ...cadence, hour, minute }))}
            {cadence.kind === 'cron' && (
              <TextInput
                label="Cron expression"
                description="minute hour day-of-month month day-of-week"
                required
                value={cadence.cron}
                onChange={(e) => setCadence({ kind: 'cron', cron: e.currentTarget.value })}
                w={260}
              />
            )}
          </Group>
          <Select
            label="Time zone"
            description="The schedule's times are read in this zone (daylight saving included)."
            searchable
            required
            data={zones}
            value={timezone}
            onChange={(z) => z && setTimezone(z)}
            allowDeselect={false}
            data-testid="schedule-timezone"
          />
          <Text size="sm" c="dimmed" data-testid="schedule-summary">
            {describeCadence(cron, timezone)}
          </Text>
          {save.isError && (
            <Text c="red" size="sm" role="alert">
              {errorMessage(save.error)}
            </Text>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={save.isPending}>
              {schedule ? 'Save' : 'Create'}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  )
}
