import { CronExpressionParser } from 'cron-parser'
import type { FieldIssue } from '../../lib/errors.ts'

/**
 * Cron expressions of schedules: five fields (minute hour day-of-month month day-of-week), in a
 * named IANA time zone, through cron-parser (ADR 013). Slots are computed in the zone, so "0 2 * * *"
 * in Europe/Berlin is 02:00 Berlin time summer and winter.
 */

/** Why a cron expression or time zone is not usable, naming the field; empty when both are. */
export function scheduleIssues(cron: string, timezone: string): FieldIssue[] {
  const issues: FieldIssue[] = []
  if (!isTimeZone(timezone))
    issues.push({ field: 'timezone', message: `"${timezone}" is not an IANA time zone (e.g. "Europe/Berlin", "UTC")` })
  const fields = cron.trim().split(/\s+/)
  if (fields.length !== 5) {
    issues.push({
      field: 'cron',
      message: `"${cron}" must have five fields (minute hour day-of-month month day-of-week), not ${fields.length}`,
    })
  } else {
    try {
      CronExpressionParser.parse(cron, { strict: false })
    } catch (error) {
      issues.push({ field: 'cron', message: `"${cron}" is not a valid cron expression: ${(error as Error).message}` })
    }
  }
  return issues
}

function isTimeZone(timezone: string): boolean {
  if (timezone.length === 0 || timezone.length > 64) return false
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone })
    return true
  } catch {
    return false
  }
}

/** The first slot strictly after `after`. A slot missed during downtime is therefore never made up twice. */
export function nextSlot(cron: string, timezone: string, after: Date): Date {
  return CronExpressionParser.parse(cron, { currentDate: after, tz: timezone }).next().toDate()
}
