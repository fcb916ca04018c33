import { Badge } from '@mantine/core'
import { outcomeColor, outcomeLabel, statusLabel } from '../../lib/runs.ts'
import type { Run } from '../../lib/types.ts'

export function StatusBadge({ run }: { run: Pick<Run, 'status' | 'status_label' | 'cancel_requested'> }) {
  const label = statusLabel(run)
  const color = run.status === 'running' ? (run.cancel_requested ? 'orange' : 'blue') : 'gray'
  return (
    <Badge variant="light" color={color} data-testid="run-status">
      {label}
    </Badge>
  )
}

export function OutcomeBadge({ run }: { run: Pick<Run, 'outcome'> }) {
  if (!run.outcome) return <span aria-label="No outcome yet">—</span>
  return (
    <Badge variant="filled" color={outcomeColor(run.outcome)} data-testid="run-outcome">
      {outcomeLabel(run.outcome)}
    </Badge>
  )
}
