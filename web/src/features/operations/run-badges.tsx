import { Badge } from '@mantine/core'
import { outcomeColor, outcomeLabel, statusLabel } from '../../lib/runs.ts'
import type { Run } from '../../lib/types.ts'

export function StatusBadge({ run }: { run: Pick<Run, 'status' | 'cancel_requested'> }) {
  const label = statusLabel(run)
  const color = label === 'Cancelling…' ? 'orange' : run.status === 'running' ? 'blue' : run.status === 'queued' ? 'gray' : 'dark'
  return (
    <Badge variant="light" color={color} data-testid="run-status" style={{ flexShrink: 0, overflow: 'visible' }}>
      {label}
    </Badge>
  )
}

export function OutcomeBadge({ run }: { run: Pick<Run, 'outcome'> }) {
  if (!run.outcome) return <span aria-label="No outcome yet">—</span>
  return (
    <Badge variant="filled" color={outcomeColor(run.outcome)} data-testid="run-outcome" style={{ flexShrink: 0, overflow: 'visible' }}>
      {outcomeLabel(run.outcome)}
    </Badge>
  )
}
