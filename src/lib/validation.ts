import type { z } from 'zod'
import { type FieldIssue, validationError } from './errors.ts'

export const fieldIssues = (error: z.ZodError): FieldIssue[] =>
  error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.join('.') : issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : '(body)',
    message: issue.message,
  }))

/** Parses input at a command's boundary; a bad field becomes a 422 (HTTP) or a one-line error (CLI). */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input)
  if (!result.success) throw validationError(fieldIssues(result.error))
  return result.data
}
