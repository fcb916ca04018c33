/**
 * A schedule's cadence in words and back: the presets the editor offers (hourly at a minute, daily
 * or weekly at a time) as cron expressions, and any cron expression recognised as one of them.
 * Anything else stays an advanced cron expression, shown as it is.
 */
export type Cadence =
  | { kind: 'hourly'; minute: number }
  | { kind: 'daily'; hour: number; minute: number }
  | { kind: 'weekly'; day: number; hour: number; minute: number }
  | { kind: 'cron'; cron: string }

export const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const

const pad = (n: number) => String(n).padStart(2, '0')
export const clockTime = (hour: number, minute: number) => `${pad(hour)}:${pad(minute)}`

export function toCron(c: Cadence): string {
  switch (c.kind) {
    case 'hourly':
      return `${c.minute} * * * *`
    case 'daily':
      return `${c.minute} ${c.hour} * * *`
    case 'weekly':
      return `${c.minute} ${c.hour} * * ${c.day}`
    case 'cron':
      return c.cron.trim()
  }
}

const num = (s: string | undefined, max: number): number | null =>
  s !== undefined && /^\d{1,2}$/.test(s) && Number(s) <= max ? Number(s) : null

export function fromCron(cron: string): Cadence {
  const parts = cron.trim().split(/\s+/)
  if (parts.length === 5) {
    const [m, h, dom, mon, dow] = parts
    const minute = num(m, 59)
    const hour = num(h, 23)
    if (minute !== null && dom === '*' && mon === '*') {
      if (h === '*' && dow === '*') return { kind: 'hourly', minute }
      if (hour !== null && dow === '*') return { kind: 'daily', hour, minute }
      const day = num(dow, 7)
      if (hour !== null && day !== null) return { kind: 'weekly', day: day % 7, hour, minute }
    }
  }
  return { kind: 'cron', cron: cron.trim() }
}

/** "Every day at 02:00 (Europe/Berlin)". */
export function describeCadence(cron: string, timezone: string): string {
  const c = fromCron(cron)
  const zone = ` (${timezone})`
  switch (c.kind) {
    case 'hourly':
      return `Every hour at minute ${c.minute}`
    case 'daily':
      return `Every day at ${clockTime(c.hour, c.minute)}${zone}`
    case 'weekly':
      return `Every ${WEEKDAYS[c.day]} at ${clockTime(c.hour, c.minute)}${zone}`
    case 'cron':
      return `Cron ${c.cron}${zone}`
  }
}

/** An instant as the schedule's zone reads it: "2 Jan 2030, 02:00 Europe/Berlin". */
export function formatInZone(iso: string, timezone: string): string {
  try {
    const text = new Intl.DateTimeFormat('en-GB', {
      dateStyle: 'medium',
      timeStyle: 'short',
      timeZone: timezone,
    }).format(new Date(iso))
    return `${text} ${timezone}`
  } catch {
    return `${new Date(iso).toISOString().slice(0, 16).replace('T', ' ')} UTC`
  }
}

/** The IANA zones this browser knows (UTC first). */
export function timeZones(): string[] {
  const intl = Intl as typeof Intl & { supportedValuesOf?: (key: string) => string[] }
  const zones = intl.supportedValuesOf?.('timeZone') ?? []
  return ['UTC', ...zones.filter((z) => z !== 'UTC')]
}
