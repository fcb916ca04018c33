import { Alert, Anchor, Badge, Button, Group, SegmentedControl, Select, Stack, Text, TextInput } from '@mantine/core'
import { useMutation, useQuery } from '@tanstack/react-query'
import { type FormEvent, useEffect, useRef, useState } from 'react'
import { DataList } from '../../components/data-list.tsx'
import { ErrorState, LoadingState, PageTitle } from '../../components/states.tsx'
import { errorMessage } from '../../lib/api.ts'
import { Link, navigate, useSearchParams } from '../../lib/router.tsx'
import type { Me } from '../../lib/types.ts'
import { backupsQuery } from '../../lib/backup-sets.ts'
import {
  comparisonQuery,
  createComparison,
  exportUrl,
  sideFromParam,
  sideToParam,
  type ComparisonSide,
  type NewComparison,
} from './api.ts'

const STATUSES = [
  { value: 'all', label: 'All' },
  { value: 'different', label: 'Different' },
  { value: 'only_left', label: 'Only left' },
  { value: 'only_right', label: 'Only right' },
  { value: 'same', label: 'Same' },
]
const STATUS_COLOR: Record<string, string> = {
  different: 'orange',
  only_left: 'blue',
  only_right: 'grape',
  same: 'gray',
}
const STATUS_LABEL: Record<string, string> = Object.fromEntries(STATUSES.map((s) => [s.value, s.label]))

/** One side's picker: a tenant, then now / a point in time / one of its backup sets. */
function SidePicker({
  label,
  me,
  side,
  onChange,
}: {
  label: string
  me: Me
  side: ComparisonSide | null
  onChange: (side: ComparisonSide | null) => void
}) {
  const tenantId = side?.tenant_id ?? ''
  const [tenant, setTenant] = useState(tenantId)
  const [kind, setKind] = useState<'now' | 'at' | 'backup'>(side?.backup_id ? 'backup' : side?.at ? 'at' : 'now')
  const [at, setAt] = useState(side?.at ?? '')
  const [backup, setBackup] = useState(side?.backup_id ?? '')
  const backups = useQuery({ ...backupsQuery(tenant), enabled: kind === 'backup' && tenant !== '' })
  useEffect(() => {
    if (!tenant) return onChange(null)
    if (kind === 'now') onChange({ tenant_id: tenant })
    else if (kind === 'at') onChange(at ? { tenant_id: tenant, at: new Date(at).toISOString() } : null)
    else onChange(backup ? { backup_id: backup } : null)
    // eslint-disable-next-line react-hooks/exhaustive-deps -- onChange is the parent's setter
  }, [tenant, kind, at, backup])
  return (
    <Stack gap={6} w={360} data-testid={`compare-side-${label.toLowerCase()}`}>
      <Text fw={600}>{label}</Text>
      <Select
        label="Tenant"
        placeholder="Pick a tenant"
        searchable
        data={me.tenants.map((t) => ({ value: t.id, label: t.name }))}
        value={tenant || null}
        onChange={(v) => setTenant(v ?? '')}
      />
      <SegmentedControl
        value={kind}
        onChange={(v) => setKind(v)}
        data={[
          { value: 'now', label: 'Now' },
          { value: 'at', label: 'At a time' },
          { value: 'backup', label: 'Backup set' },
        ]}
      />
      {kind === 'at' && (
        <TextInput
          label="Date and time"
          type="datetime-local"
          value={at}
          onChange={(e) => setAt(e.currentTarget.value)}
        />
      )}
      {kind === 'backup' && (
        <Select
          label="Backup set"
          placeholder={backups.isPending ? 'Loading…' : 'Pick a backup set'}
          data={(backups.data?.data ?? []).map((b) => ({ value: b.id, label: `${b.name} (${b.item_count})` }))}
          value={backup || null}
          onChange={(v) => setBackup(v ?? '')}
        />
      )}
    </Stack>
  )
}

/** `/compare?left=…&right=…`: pick two states (a shareable URL: the sides in the query compare at once). */
export function ComparePage({ me }: { me: Me }) {
  const [params] = useSearchParams()
  const [left, setLeft] = useState<ComparisonSide | null>(sideFromParam(params.get('left')))
  const [right, setRight] = useState<ComparisonSide | null>(sideFromParam(params.get('right')))
  const start = useMutation({
    mutationFn: (body: NewComparison) => createComparison(body),
    onSuccess: (result) => navigate(`/compare/${result.comparison.id}`),
  })
  // A shared URL naming both sides compares straight away.
  const autostarted = useRef(false)
  useEffect(() => {
    const l = sideFromParam(params.get('left'))
    const r = sideFromParam(params.get('right'))
    if (l && r && !autostarted.current) {
      autostarted.current = true
      start.mutate({ left: l, right: r })
    }
  }, [params, start])
  const submit = (event: FormEvent) => {
    event.preventDefault()
    if (!left || !right) return
    // The URL names the sides, so it can be shared or bookmarked before the result opens.
    window.history.replaceState(
      null,
      '',
      `/compare?left=${encodeURIComponent(sideToParam(left))}&right=${encodeURIComponent(sideToParam(right))}`,
    )
    start.mutate({ left, right })
  }
  return (
    <Stack gap="md">
      <PageTitle eyebrow="Many tenants">Compare</PageTitle>
      <Text c="dimmed" size="sm">
        Objects are matched by type and name; groups, filters and scope tags by name.
      </Text>
      <form onSubmit={submit}>
        <Stack gap="md">
          <Group align="flex-start" gap="xl">
            <SidePicker label="Left" me={me} side={left} onChange={setLeft} />
            <SidePicker label="Right" me={me} side={right} onChange={setRight} />
          </Group>
          <Group>
            <Button type="submit" disabled={!left || !right} loading={start.isPending} data-testid="compare-start">
              Compare
            </Button>
          </Group>
          {start.isError && <Alert color="red">{errorMessage(start.error)}</Alert>}
        </Stack>
      </form>
    </Stack>
  )
}

/** `/compare/{id}?status=&type=`: a comparison's result, filtered; its URL is shareable with whoever sees both sides. */
export function ComparisonPage({ comparisonId }: { comparisonId: string }) {
  const [params, setParams] = useSearchParams()
  const status = params.get('status')
  const type = params.get('type')
  const [cursor, setCursor] = useState<string | null>(null)
  const result = useQuery(comparisonQuery(comparisonId, { status, type, cursor }))
  if (result.isPending) return <LoadingState label="Loading the comparison" />
  if (result.isError) return <ErrorState error={result.error} title="Could not load the comparison" />
  const { comparison, data, next_cursor } = result.data
  const c = comparison.counts
  const types = Object.keys(c.by_type).sort()
  return (
    <Stack gap="md">
      <PageTitle eyebrow="Compare">
        {comparison.left.label} ↔ {comparison.right.label}
      </PageTitle>
      {comparison.status === 'running' ? (
        <Alert color="blue" title="Comparing…">
          This comparison runs as an operation.{' '}
          {comparison.links.run && (
            <Anchor component={Link} to={comparison.links.run}>
              Follow its progress
            </Anchor>
          )}
        </Alert>
      ) : comparison.status === 'failed' ? (
        <Alert color="red">The comparison failed. Start it again.</Alert>
      ) : (
        <>
          <Text size="sm" data-testid="compare-counts">
            {c.different} different · {c.only_left} only left · {c.only_right} only right · {c.same} same
          </Text>
          {comparison.mapping.some((m) => m.right_id === null) && (
            <Alert color="yellow" title="Not mapped">
              {comparison.mapping
                .filter((m) => m.right_id === null)
                .map((m) => `${m.kind.replace('_', ' ')} ${m.left_name ?? m.left_id}`)
                .join(', ')}{' '}
              has no object of the same name on the right: assignments to it show as differences.
            </Alert>
          )}
          <Group gap="sm" align="flex-end">
            <SegmentedControl
              value={status ?? 'all'}
              onChange={(v) => {
                setCursor(null)
                setParams({ status: v === 'all' ? null : v })
              }}
              data={STATUSES}
            />
            <Select
              placeholder="Every type"
              clearable
              data={types}
              value={type}
              onChange={(v) => {
                setCursor(null)
                setParams({ type: v })
              }}
              w={260}
            />
            <Button component="a" variant="default" href={exportUrl(comparison.id, 'csv', { status, type })}>
              Export CSV
            </Button>
            <Button component="a" variant="default" href={exportUrl(comparison.id, 'md', { status, type })}>
              Export Markdown
            </Button>
          </Group>
          <DataList
            rows={data}
            rowKey={(row) => String(row.position)}
            testId="compare-table"
            rowTestId="compare-row"
            empty="No objects match."
            columns={[
              {
                key: 'status',
                label: 'Status',
                cell: (row) => (
                  <>
                    <Badge color={STATUS_COLOR[row.status]} variant="light">
                      {STATUS_LABEL[row.status]}
                    </Badge>
                  </>
                ),
              },
              { key: 'type', label: 'Type', cell: (row) => row.policy_type },
              { key: 'left', label: 'Left', cell: (row) => row.left?.name ?? '—' },
              { key: 'right', label: 'Right', cell: (row) => row.right?.name ?? '—' },
              {
                key: 'differences',
                label: 'Differences',
                cell: (row) => (
                  <>
                    {row.changes.map((ch) => (
                      <Text key={ch.path} size="xs">
                        {ch.label}: {show(ch.before)} → {show(ch.after)}
                      </Text>
                    ))}
                  </>
                ),
              },
            ]}
          />
          {next_cursor && (
            <Group>
              <Button variant="default" onClick={() => setCursor(next_cursor)}>
                Next page
              </Button>
            </Group>
          )}
        </>
      )}
    </Stack>
  )
}

const show = (value: unknown) =>
  value === null || value === undefined ? '—' : typeof value === 'string' ? value : JSON.stringify(value)
