export const addDays = (date: Date, days: number) => new Date(date.getTime() + days * 24 * 60 * 60 * 1000)

/**
 * A date PostgreSQL can hold, or undefined. JavaScript parses far more (year 0, negative years,
 * +275760) than a timestamptz takes; years 1–9999 are what any client can send back.
 */
export function storableDate(value: string): Date | undefined {
  const at = new Date(value)
  const year = at.getUTCFullYear()
  return Number.isNaN(at.getTime()) || year < 1 || year > 9999 ? undefined : at
}
