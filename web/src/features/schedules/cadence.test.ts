import { describe, expect, it } from 'vitest'
import { describeCadence, formatInZone, fromCron, timeZones, toCron } from './cadence.ts'

describe('cadence', () => {
  it('turns the presets into cron and recognises them back', () => {
    expect(toCron({ kind: 'hourly', minute: 15 })).toBe('15 * * * *')
    expect(toCron({ kind: 'daily', hour: 2, minute: 0 })).toBe('0 2 * * *')
    expect(toCron({ kind: 'weekly', day: 1, hour: 6, minute: 30 })).toBe('30 6 * * 1')
    expect(fromCron('0 2 * * *')).toEqual({ kind: 'daily', hour: 2, minute: 0 })
    expect(fromCron('30 6 * * 1')).toEqual({ kind: 'weekly', day: 1, hour: 6, minute: 30 })
    expect(fromCron('15 * * * *')).toEqual({ kind: 'hourly', minute: 15 })
    expect(fromCron('*/5 * * * 1-5')).toEqual({ kind: 'cron', cron: '*/5 * * * 1-5' })
  })

  it('says the cadence in words with its zone', () => {
    expect(describeCadence('0 2 * * *', 'Europe/Berlin')).toBe('Every day at 02:00 (Europe/Berlin)')
    expect(describeCadence('30 6 * * 0', 'UTC')).toBe('Every Sunday at 06:30 (UTC)')
    expect(describeCadence('*/5 * * * *', 'UTC')).toBe('Cron */5 * * * * (UTC)')
  })

  it("shows the next run in the schedule's zone: 01:00 UTC is 02:00 in Berlin in winter", () => {
    expect(formatInZone('2030-01-02T01:00:00.000Z', 'Europe/Berlin')).toBe('2 Jan 2030, 02:00 Europe/Berlin')
    expect(formatInZone('2030-07-02T00:00:00.000Z', 'Europe/Berlin')).toBe('2 Jul 2030, 02:00 Europe/Berlin')
  })

  it('offers the IANA zones, UTC first', () => {
    const zones = timeZones()
    expect(zones[0]).toBe('UTC')
    expect(zones).toContain('Europe/Berlin')
  })
})
