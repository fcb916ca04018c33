import { ActionIcon, Badge, Group, Paper, Progress, ScrollArea, Stack, Text, UnstyledButton } from '@mantine/core'
import { useState } from 'react'
import { useActiveRuns, useNow } from '../../components/live-runs.tsx'
import { elapsedMs, formatDuration } from '../../lib/format.ts'
import { progressOf } from '../../lib/progress.ts'
import { Link } from '../../lib/router.tsx'
import { initiatorLabel, statusLabel, typeLabel } from '../../lib/runs.ts'
import type { Run } from '../../lib/types.ts'

/**
 * Bottom-right on every tenant page: the tenant's active runs, whoever started them (ADR 006).
 * A run is here from queued until it completes, and never shows a terminal state.
 */
export function ProgressWidget() {
  const runs = useActiveRuns()
  const [collapsed, setCollapsed] = useState(false)
  if (runs.length === 0) return null
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
          </Stack>
        </ScrollArea.Autosize>
      )}
    </Paper>
  )
}

function WidgetRun({ run }: { run: Run }) {
  const now = useNow(1000)
  const progress = progressOf(run.summary_counts)
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
      {progress.determinate ? (
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
