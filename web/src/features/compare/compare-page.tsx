import { Alert, Anchor, Badge, Button, Group, SegmentedControl, Select, Stack, Text, TextInput } from '@mantine/core'
import { useMutation, useQuery } from '@tanstack/react-query'
import { type FormEvent, useEffect, useRef, useState } from 'react'
import { DataList } from '../../components/data-list.tsx'
import { ErrorState, LoadingState, PageTitle } from '../../components/states.tsx'
import { errorMessage } from '../../lib/api.ts'
import { Link, navigate, useSearchParams } from '../../lib/router.tsx'
import type { Me } from '../../lib/types.ts'
import { backupsQuery } from '../../lib/backup-sets.ts'
import { tenantGroupsQuery } from '../../lib/tenant-groups.ts'
import { groupNamesByTenant, matchesTenant } from '../../lib/tenant-search.ts'
import {
  comparisonQuery,
  createComparison,
  exportUrl,
  pairCandidatesQuery,
  sideFromParam,
  sideInputOf,
  sideToParam,
  type ComparisonPage as ComparisonResult,
  type ComparisonSide,
  type MappingEntry,
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
  const groups = useQuery(tenantGroupsQuery)
  const groupsOf = groupNamesByTenant(groups.data?.data ?? [])
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
        // A tenant group's name finds its tenants too.
        filter={({ options, search }) =>
          (options as { value: string; label: string }[]).filter((o) => matchesTenant(o, search, groupsOf))
        }
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
        Objects are matched by type and name; groups, filters and scope tags by name (on the result, you may pair them
        otherwise and compare again).
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
          <MappingEditor comparison={comparison} />
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

const NOT_MAPPED = '__none__'
const KIND_LABEL: Record<MappingEntry['kind'], string> = {
  group: 'Group',
  assignment_filter: 'Assignment filter',
  scope_tag: 'Scope tag',
}
const pairKey = (m: { kind: string; left_id: string }) => `${m.kind}:${m.left_id}`

/**
 * The groups, filters and scope tags of the left side and what they stand for on the right (proposed
 * by name). A person may pair them otherwise and compare again: the new comparison keeps their pairs.
 */
function MappingEditor({ comparison }: { comparison: ComparisonResult['comparison'] }) {
  const [open, setOpen] = useState(false)
  const [edits, setEdits] = useState<Map<string, string | null>>(new Map())
  const rightTenant = comparison.right.tenant_id
  const kinds = [...new Set(comparison.mapping.map((m) => m.kind))]
  const candidates = {
    group: useQuery({ ...pairCandidatesQuery(rightTenant, 'group', ''), enabled: open && kinds.includes('group') }),
    assignment_filter: useQuery({
      ...pairCandidatesQuery(rightTenant, 'assignment_filter', ''),
      enabled: open && kinds.includes('assignment_filter'),
    }),
    scope_tag: useQuery({
      ...pairCandidatesQuery(rightTenant, 'scope_tag', ''),
      enabled: open && kinds.includes('scope_tag'),
    }),
  }
  const again = useMutation({
    mutationFn: () => {
      const pairs = new Map<string, { kind: MappingEntry['kind']; left_id: string; right_id: string | null }>()
      for (const m of comparison.mapping)
        if (m.source === 'user') pairs.set(pairKey(m), { kind: m.kind, left_id: m.left_id, right_id: m.right_id })
      for (const m of comparison.mapping)
        if (edits.has(pairKey(m)))
          pairs.set(pairKey(m), { kind: m.kind, left_id: m.left_id, right_id: edits.get(pairKey(m)) ?? null })
      return createComparison({
        left: sideInputOf(comparison.left),
        right: sideInputOf(comparison.right),
        mapping: [...pairs.values()],
      })
    },
    onSuccess: (result) => navigate(`/compare/${result.comparison.id}`),
  })
  if (comparison.mapping.length === 0) return null
  const options = (m: MappingEntry) => {
    const listed = (candidates[m.kind].data?.data ?? []).map((i) => ({ value: i.external_id, label: i.display_name }))
    const current =
      m.right_id !== null && !listed.some((o) => o.value === m.right_id)
        ? [{ value: m.right_id, label: m.right_name ?? m.right_id }]
        : []
    return [{ value: NOT_MAPPED, label: '— none (not mapped) —' }, ...current, ...listed]
  }
  return (
    <Stack gap={6}>
      <Group gap="sm">
        <Button variant="subtle" size="compact-sm" onClick={() => setOpen((o) => !o)} data-testid="mapping-toggle">
          {open ? 'Hide' : 'Show'} the mapping ({comparison.mapping.length} pairs)
        </Button>
      </Group>
      {open && (
        <>
          <DataList
            rows={comparison.mapping}
            rowKey={(m) => pairKey(m)}
            testId="mapping-table"
            rowTestId="mapping-row"
            verticalSpacing={4}
            empty={null}
            columns={[
              { key: 'kind', label: 'Kind', cell: (m) => KIND_LABEL[m.kind] },
              { key: 'left', label: 'Left', cell: (m) => m.left_name ?? m.left_id },
              {
                key: 'right',
                label: 'Stands for on the right',
                cell: (m) => {
                  const key = pairKey(m)
                  const value = edits.has(key) ? edits.get(key) : m.right_id
                  return (
                    <Select
                      aria-label={`Right side for ${m.left_name ?? m.left_id}`}
                      searchable
                      size="xs"
                      w={320}
                      maw="100%"
                      data={options(m)}
                      value={value ?? NOT_MAPPED}
                      onChange={(v) => {
                        const next = new Map(edits)
                        const right = v === null || v === NOT_MAPPED ? null : v
                        if (right === m.right_id) next.delete(key)
                        else next.set(key, right)
                        setEdits(next)
                      }}
                    />
                  )
                },
              },
              {
                key: 'source',
                label: 'Proposed',
                cell: (m) =>
                  edits.has(pairKey(m)) ? (
                    <Badge variant="light" color="orange">
                      changed
                    </Badge>
                  ) : m.source === 'user' ? (
                    <Badge variant="light">yours</Badge>
                  ) : (
                    <Text size="xs" c="dimmed">
                      by name
                    </Text>
                  ),
              },
            ]}
          />
          <Group>
            <Button
              onClick={() => again.mutate()}
              disabled={edits.size === 0}
              loading={again.isPending}
              data-testid="compare-again"
            >
              Compare again with these pairs
            </Button>
          </Group>
          {again.isError && <Alert color="red">{errorMessage(again.error)}</Alert>}
        </>
      )}
    </Stack>
  )
}

const show = (value: unknown) =>
  value === null || value === undefined ? '—' : typeof value === 'string' ? value : JSON.stringify(value)
