import { z } from 'zod'
import { type FieldIssue, validationError } from './errors.ts'

export const fieldIssues = (error: z.ZodError): FieldIssue[] =>
  error.issues.map((issue) => ({
    field:
      issue.path.length > 0
        ? issue.path.join('.')
        : issue.code === 'unrecognized_keys'
          ? issue.keys.join(', ')
          : '(body)',
    message: issue.message,
  }))

/** Parses input at a command's boundary; a bad field becomes a 422 (HTTP) or a one-line error (CLI). */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input)
  if (!result.success) throw validationError(fieldIssues(result.error))
  return result.data
}

/**
 * Required text with a length limit, each failure saying what is wrong: absent is "is required",
 * too long says the limit (a schema-wide message would answer every failure "is required").
 */
export const requiredText = (max: number, options: { trim?: boolean } = {}) => {
  const base = z.string({
    error: (issue) => (issue.input === undefined || issue.input === null ? 'is required' : 'must be a string'),
  })
  return (options.trim === false ? base : base.trim())
    .min(1, { error: 'is required' })
    .max(max, { error: `must be at most ${max} characters` })
}
