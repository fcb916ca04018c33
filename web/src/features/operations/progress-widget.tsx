import { ActionIcon, Badge, Group, Paper, Progress, ScrollArea, Stack, Text, UnstyledButton } from '@mantine/core'
import { useQuery } from '@tanstack/react-query'
import { useEffect, useRef, useState } from 'react'
import { useActiveRuns, useNow } from '../../components/live-runs.tsx'
import { elapsedMs, formatDuration } from '../../lib/format.ts'
import { phaseOf, progressOf } from '../../lib/progress.ts'
import { Link } from '../../lib/router.tsx'
import { initiatorLabel, outcomeColor, outcomeLabel, statusLabel, typeLabel } from '../../lib/runs.ts'
import { runQuery } from './api.ts'
import type { Run } from '../../lib/types.ts'

/** How long a finished run stays in the widget with its outcome and a link, before it leaves. */
export const FINISHED_MS = 8000

/**
 * The runs that just left the active set, each kept for FINISHED_MS so the widget says how they ended
 * instead of letting them vanish without a word.
 */
function useFinished(active: readonly Run[]): Run[] {
  const previous = useRef<Run[]>([])
  const [finished, setFinished] = useState<Run[]>([])
  useEffect(() => {
    const ids = new Set(active.map((run) => run.id))
    const gone = previous.current.filter((run) => !ids.has(run.id))
    previous.current = [...active]
    if (gone.length === 0) return
    setFinished((list) => [...list.filter((r) => !gone.some((g) => g.id === r.id)), ...gone])
    const timer = setTimeout(
      () => setFinished((list) => list.filter((r) => !gone.some((g) => g.id === r.id))),
      FINISHED_MS,
    )
    return () => clearTimeout(timer)
  }, [active])
  return finished
}

/**
 * Bottom-right on every tenant page: the tenant's active runs, whoever started them (ADR 006).
 * A run is here from queued until it completes — "starting" before its first count, "finishing" once
 * every unit is counted — and then for a few seconds with its outcome and a link to its result.
 */
export function ProgressWidget() {
  const runs = useActiveRuns()
  const finished = useFinished(runs)
  const [collapsed, setCollapsed] = useState(false)
  if (runs.length === 0 && finished.length === 0) return null
  return (
    <Paper
      data-testid="progress-widget"
      role="region"
      aria-label="Active operations"
      withBorder
      shadow="md"
      p="sm"
      w={340}
      style={{ position: 'fixed', right: 16, bottom: 16, zIndex: 150 }}
    >
      <Group justify="space-between" mb={collapsed ? 0 : 'xs'} wrap="nowrap">
        <Text fw={600} size="sm">
          Active operations ({runs.length})
        </Text>
        <ActionIcon
          variant="subtle"
          size="sm"
          onClick={() => setCollapsed((c) => !c)}
          aria-label={collapsed ? 'Show active operations' : 'Hide active operations'}
          aria-expanded={!collapsed}
        >
          {collapsed ? '▴' : '▾'}
        </ActionIcon>
      </Group>
      {!collapsed && (
        <ScrollArea.Autosize mah={300}>
          <Stack gap="xs">
            {runs.map((run) => (
              <WidgetRun key={run.id} run={run} />
            ))}
            {finished.map((run) => (
              <FinishedRun key={run.id} run={run} />
            ))}
          </Stack>
        </ScrollArea.Autosize>
      )}
    </Paper>
  )
}

/** A run that just completed: its outcome (as the server recorded it) and a link to the result. */
function FinishedRun({ run }: { run: Run }) {
  // The live stream put the completed state in the cache; a run that vanished from a snapshot is fetched.
  const final = useQuery({ ...runQuery(run.tenant_id, run.id), staleTime: FINISHED_MS })
  const done = final.data?.status === 'completed' ? final.data : null
  return (
    <UnstyledButton
      component={Link}
      to={run.links.view}
      data-testid="progress-widget-finished"
      data-run-id={run.id}
      p={6}
      style={{ borderRadius: 4, display: 'block' }}
      className="ta-widget-run"
    >
      <Group justify="space-between" wrap="nowrap" gap="xs">
        <Text size="sm" fw={500} truncate>
          {typeLabel(run)}
        </Text>
        <Badge size="sm" variant="light" color={done ? outcomeColor(done.outcome) : 'gray'}>
          {done ? outcomeLabel(done.outcome) : 'Finished'}
        </Badge>
      </Group>
      <Text size="xs" c="dimmed">
        Done: see the result
      </Text>
    </UnstyledButton>
  )
}

function WidgetRun({ run }: { run: Run }) {
  const now = useNow(1000)
  const progress = progressOf(run.summary_counts)
  const phase = phaseOf(run)
  const status = statusLabel(run)
  return (
    <UnstyledButton
      component={Link}
      to={run.links.view}
      data-testid="progress-widget-run"
      data-run-id={run.id}
      aria-label={`${typeLabel(run)}, ${status}, started by ${initiatorLabel(run)}: open the run`}
      p={6}
      style={{ borderRadius: 4, display: 'block' }}
      className="ta-widget-run"
    >
      <Group justify="space-between" wrap="nowrap" gap="xs">
        <Text size="sm" fw={500} truncate>
          {typeLabel(run)}
        </Text>
        <Badge
          size="sm"
          variant="light"
          color={status === 'Cancelling…' ? 'orange' : status === 'Queued' ? 'gray' : 'blue'}
          data-testid="progress-widget-status"
        >
          {status}
        </Badge>
      </Group>
      <Group justify="space-between" wrap="nowrap" gap="xs">
        <Text size="xs" c="dimmed" truncate title={initiatorLabel(run)}>
          {initiatorLabel(run)}
        </Text>
        <Text size="xs" c="dimmed" data-testid="progress-widget-elapsed">
          {formatDuration(elapsedMs(run, now))}
        </Text>
      </Group>
      {phase === 'starting' || phase === 'finishing' ? (
        <>
          <Progress.Root size="sm" mt={4} data-testid="progress-widget-bar" data-determinate="false">
            <Progress.Section value={100} striped animated aria-label={`${typeLabel(run)}: ${phase}`} />
          </Progress.Root>
          <Text size="xs" c="dimmed" data-testid="progress-widget-counts">
            {phase === 'starting' ? 'Starting…' : `${progress.label ?? ''} · finishing…`}
          </Text>
        </>
      ) : progress.determinate ? (
        <>
          <Progress
            value={progress.percent}
            size="sm"
            mt={4}
            aria-label={`${typeLabel(run)} progress`}
            data-testid="progress-widget-bar"
            data-determinate="true"
          />
          <Text size="xs" c="dimmed" data-testid="progress-widget-counts">
            {progress.label} ({progress.percent}%)
          </Text>
        </>
      ) : (
        <>
          <Progress.Root size="sm" mt={4} data-testid="progress-widget-bar" data-determinate="false">
            <Progress.Section
              value={100}
              striped
              animated
              aria-label={`${typeLabel(run)}: in progress, total not known yet`}
            />
          </Progress.Root>
          {progress.label && (
            <Text size="xs" c="dimmed" data-testid="progress-widget-counts">
              {progress.label}
            </Text>
          )}
        </>
      )}
    </UnstyledButton>
  )
}
