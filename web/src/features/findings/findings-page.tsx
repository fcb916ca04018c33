import { Anchor, Badge, Button, Code, Group, Modal, Select, Stack, Text, TextInput } from '@mantine/core'
import { DataList } from '../../components/data-list.tsx'
import { notifications } from '@mantine/notifications'
import { infiniteQueryOptions, useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { useLiveRuns } from '../../components/live-runs.tsx'
import { showSyncToast, type StartedSync } from '../../components/inventory-sync.tsx'
import { PageTitle } from '../../components/states.tsx'
import type { Schemas } from '../../lib/api-types.ts'
import { api, errorMessage } from '../../lib/api.ts'
import { formatDateTime } from '../../lib/format.ts'
import { Link, useSearchParams } from '../../lib/router.tsx'
import type { MeTenant, Page } from '../../lib/types.ts'

type Finding = Schemas['Finding']
type Baseline = Schemas['Baseline']

const STATES = ['open', 'acknowledged', 'excepted', 'resolved', 'unknown'] as const
const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const
const SEVERITY_COLOR: Record<Finding['severity'], string> = {
  critical: 'red',
  high: 'orange',
  medium: 'yellow',
  low: 'gray',
}

/** A setting's value as people read it: text as is, nothing as "—", the rest as compact JSON. */
export function readableValue(value: unknown): string {
  if (value === null || value === undefined) return '—'
  if (typeof value === 'string') return value === '' ? '""' : value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return JSON.stringify(value)
}

/** Who caused the drift, as the version recorded it (the audit log's user or app, or who started our own run). */
export function causedByLabel(finding: Finding): string | null {
  const by = finding.caused_by?.changed_by
  if (!by) return null
  const name = by.user_principal_name ?? by.initiated_by ?? by.app_name
  return typeof name === 'string' ? name : null
}

type Filters = { baseline_id?: string; state?: string; severity?: string }

const findingsQuery = (tenantId: string, f: Filters) =>
  infiniteQueryOptions({
    queryKey: ['findings', tenantId, f],
    queryFn: ({ pageParam, signal }) =>
      api<Page<Finding>>(`/api/tenants/${tenantId}/findings`, {
        signal,
        query: { ...f, cursor: pageParam, limit: 50 },
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  })

/** `/t/{tenantId}/findings`: where the tenant differs from its baselines, and what people decided about it. */
export function FindingsPage({ tenant }: { tenant: MeTenant }) {
  const [search, setSearch] = useSearchParams()
  const filters: Filters = {
    baseline_id: search.get('baseline') ?? undefined,
    state: search.get('state') ?? undefined,
    severity: search.get('severity') ?? undefined,
  }
  const findings = useInfiniteQuery(findingsQuery(tenant.id, filters))
  const baselines = useQuery({
    queryKey: ['baselines'],
    queryFn: ({ signal }) => api<Page<Baseline>>('/api/baselines', { signal, query: { limit: 200 } }),
  })
  const client = useQueryClient()
  const live = useLiveRuns()
  const canManage = tenant.capabilities.includes('findings.manage')
  const canApprove = tenant.capabilities.includes('findings.approve')
  const refresh = () => void client.invalidateQueries({ queryKey: ['findings', tenant.id] })
  const fail = (title: string) => (error: unknown) =>
    notifications.show({ title, message: errorMessage(error), color: 'red' })

  const evaluate = useMutation({
    mutationFn: () => api<StartedSync>(`/api/tenants/${tenant.id}/drift-evaluations`, { method: 'POST', body: {} }),
    onSuccess: (started) => {
      showSyncToast(started)
      live?.refresh()
    },
    onError: fail('Drift evaluation not started'),
  })
  const acknowledge = useMutation({
    mutationFn: (f: Finding) =>
      api<Finding>(`/api/tenants/${tenant.id}/findings/${f.id}/acknowledge`, { method: 'POST', body: {} }),
    onSuccess: refresh,
    onError: fail('Not acknowledged'),
  })
  const removeException = useMutation({
    mutationFn: (f: Finding) =>
      api<Finding>(`/api/tenants/${tenant.id}/findings/${f.id}/exception`, { method: 'DELETE' }),
    onSuccess: refresh,
    onError: fail('Exception not removed'),
  })
  const [excepting, setExcepting] = useState<Finding | null>(null)
  const rows = findings.data?.pages.flatMap((p) => p.data) ?? []
  const baselineName = (id: string) => baselines.data?.data.find((b) => b.id === id)?.name ?? 'Baseline'

  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end">
        <PageTitle eyebrow={tenant.name}>Findings</PageTitle>
        {canManage && (
          <Button onClick={() => evaluate.mutate()} loading={evaluate.isPending} data-testid="evaluate-drift">
            Evaluate now
          </Button>
        )}
      </Group>
      <Group align="flex-end" gap="sm" data-testid="findings-filters">
        <Select
          label="Baseline"
          placeholder="All baselines"
          data={(baselines.data?.data ?? []).map((b) => ({ value: b.id, label: b.name }))}
          value={filters.baseline_id ?? null}
          onChange={(v) => setSearch({ baseline: v })}
          clearable
          w={220}
          data-testid="findings-baseline"
        />
        <Select
          label="State"
          placeholder="Any state"
          data={[...STATES]}
          value={filters.state ?? null}
          onChange={(v) => setSearch({ state: v })}
          clearable
          w={160}
          data-testid="findings-state"
        />
        <Select
          label="Severity"
          placeholder="Any severity"
          data={[...SEVERITIES]}
          value={filters.severity ?? null}
          onChange={(v) => setSearch({ severity: v })}
          clearable
          w={160}
          data-testid="findings-severity"
        />
      </Group>
      <DataList
        rows={rows}
        rowKey={(f) => f.id}
        query={findings}
        testId="findings-table"
        rowTestId="finding-row"
        rowProps={(f) => ({ 'data-state': f.state, 'data-severity': f.severity })}
        loadingLabel="Loading findings"
        empty="No findings: every bound object matches its baseline, or nothing was evaluated yet."
        filtered={Boolean(filters.baseline_id || filters.state || filters.severity)}
        filteredEmpty="No findings match these filters."
        onClearFilters={() => setSearch({ baseline: null, state: null, severity: null })}
        columns={[
          {
            key: 'setting',
            label: 'Setting',
            cell: (f) => (
              <>
                <Text size="sm" fw={600}>
                  {f.item_id ? (
                    <Anchor component={Link} to={`/t/${tenant.id}/inventory/${f.item_id}`} size="sm">
                      {f.label}
                    </Anchor>
                  ) : (
                    f.label
                  )}
                </Text>
                <Text size="xs" c="dimmed">
                  {f.path || (f.kind === 'missing' ? 'object missing' : f.kind)} · {baselineName(f.baseline_id)}
                </Text>
              </>
            ),
          },
          { key: 'expected', label: 'Expected', cell: (f) => <Code fz="xs">{readableValue(f.expected)}</Code> },
          {
            key: 'actual',
            label: 'Actual',
            cell: (f) => (
              <Code fz="xs" data-testid="finding-actual">
                {readableValue(f.actual)}
              </Code>
            ),
          },
          {
            key: 'severity',
            label: 'Severity',
            cell: (f) => (
              <Badge color={SEVERITY_COLOR[f.severity]} variant="light">
                {f.severity}
              </Badge>
            ),
          },
          {
            key: 'state',
            label: 'State',
            cell: (f) => (
              <>
                <Text size="sm" data-testid="finding-state">
                  {f.state}
                </Text>
                {f.exception && (
                  <Text size="xs" c="dimmed">
                    {f.exception.reason}
                    {f.exception.expires_at ? ` · until ${formatDateTime(f.exception.expires_at)}` : ''}
                  </Text>
                )}
              </>
            ),
          },
          {
            key: 'caused-by',
            label: 'Caused by',
            cell: (f) => (
              <>
                <Text size="sm" data-testid="finding-actor">
                  {causedByLabel(f) ?? '—'}
                </Text>
                {f.caused_by?.version_id && f.item_id && (
                  <Anchor
                    component={Link}
                    to={`/t/${tenant.id}/inventory/${f.item_id}?version=${f.caused_by.version_id}`}
                    size="xs"
                  >
                    the version
                  </Anchor>
                )}
              </>
            ),
          },
          {
            key: 'seen',
            label: 'Seen',
            nowrap: true,
            cell: (f) => (
              <>
                <Text size="xs">first {formatDateTime(f.first_seen_at)}</Text>
                <Text size="xs">last {formatDateTime(f.last_seen_at)}</Text>
              </>
            ),
          },
          {
            key: 'actions',
            label: 'Actions',
            header: '',
            cell: (f) => (
              <Group gap={4} wrap="nowrap">
                {canManage && f.state === 'open' && (
                  <Button size="compact-xs" variant="default" onClick={() => acknowledge.mutate(f)}>
                    Acknowledge
                  </Button>
                )}
                {canApprove && (f.state === 'open' || f.state === 'acknowledged') && (
                  <Button
                    size="compact-xs"
                    variant="default"
                    onClick={() => setExcepting(f)}
                    data-testid="finding-except"
                  >
                    Accept as exception
                  </Button>
                )}
                {canApprove && f.state === 'excepted' && (
                  <Button size="compact-xs" variant="default" onClick={() => removeException.mutate(f)}>
                    Remove exception
                  </Button>
                )}
              </Group>
            ),
          },
        ]}
      />
      <ExceptionDialog
        tenantId={tenant.id}
        finding={excepting}
        onClose={() => setExcepting(null)}
        onDone={() => {
          setExcepting(null)
          refresh()
        }}
      />
    </Stack>
  )
}

/** Accept a finding as an exception: why, and until when (empty: until withdrawn). */
function ExceptionDialog(props: {
  tenantId: string
  finding: Finding | null
  onClose: () => void
  onDone: () => void
}) {
  const [reason, setReason] = useState('')
  const [until, setUntil] = useState('')
  const save = useMutation({
    mutationFn: (f: Finding) =>
      api<Finding>(`/api/tenants/${props.tenantId}/findings/${f.id}/exception`, {
        method: 'POST',
        body: { reason, expires_at: until ? new Date(`${until}T23:59:59`).toISOString() : null },
      }),
    onSuccess: () => {
      setReason('')
      setUntil('')
      props.onDone()
    },
  })
  return (
    <Modal opened={props.finding !== null} onClose={props.onClose} title="Accept as exception">
      <Stack gap="sm">
        <Text size="sm">
          {props.finding?.label}: the current value stays as it is and is no longer reported as drift.
        </Text>
        <TextInput
          label="Reason"
          required
          value={reason}
          onChange={(e) => setReason(e.currentTarget.value)}
          data-testid="exception-reason"
        />
        <TextInput
          label="Until (optional)"
          type="date"
          value={until}
          onChange={(e) => setUntil(e.currentTarget.value)}
          data-testid="exception-until"
        />
        {save.isError && (
          <Text size="sm" c="red">
            {errorMessage(save.error)}
          </Text>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={props.onClose}>
            Cancel
          </Button>
          <Button
            disabled={!reason.trim()}
            loading={save.isPending}
            onClick={() => props.finding && save.mutate(props.finding)}
            data-testid="confirm-write"
          >
            Accept
          </Button>
        </Group>
      </Stack>
    </Modal>
  )
}
