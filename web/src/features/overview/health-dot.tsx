import { ColorSwatch, Tooltip } from '@mantine/core'
import type { Health } from '../../lib/types.ts'

const COLORS: Record<Health, string> = {
  critical: 'var(--mantine-color-red-6)',
  warning: 'var(--mantine-color-yellow-6)',
  ok: 'var(--mantine-color-green-6)',
}
const LABELS: Record<Health, string> = { critical: 'Needs attention now', warning: 'Needs a look', ok: 'Healthy' }

/** The tenant's health as the server decided it (the worst of its attention reasons); grey while unknown. */
export function HealthDot({ health, reasons }: { health: Health | undefined; reasons?: string[] }) {
  const label = health ? LABELS[health] : 'Health not known yet'
  return (
    <Tooltip label={reasons && reasons.length > 0 ? reasons.join(' · ') : label} withinPortal>
      <ColorSwatch
        component="span"
        color={health ? COLORS[health] : 'var(--mantine-color-gray-4)'}
        size={10}
        withShadow={false}
        aria-label={label}
        data-health={health ?? 'unknown'}
      />
    </Tooltip>
  )
}
