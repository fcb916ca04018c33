import { z } from 'zod'

export const assignmentsQuery = z
  .strictObject({
    group_id: z.guid({ error: 'must be an Entra group id (a GUID)' }).optional(),
    user: z
      .string()
      .trim()
      .min(1, { error: 'is required' })
      .max(320, { error: 'must be at most 320 characters' })
      .optional(),
    device: z
      .string()
      .trim()
      .min(1, { error: 'is required' })
      .max(256, { error: 'must be at most 256 characters' })
      .optional(),
  })
  .refine((q) => [q.group_id, q.user, q.device].filter((v) => v !== undefined).length === 1, {
    error: 'name exactly one of group_id, user (a UPN) or device (a device name)',
  })

export type AssignmentsQuery = z.output<typeof assignmentsQuery>

const group = z.object({ id: z.string(), name: z.string() })

export const assignmentsResponse = z
  .object({
    subject: z.object({ kind: z.enum(['group', 'user', 'device']), id: z.string().nullable(), name: z.string() }),
    groups: z
      .array(group)
      .describe('The groups the subject is in, transitively (for a group: itself, then the groups it is nested in)'),
    assignments: z.array(
      z.object({
        item: z.object({ id: z.string(), policy_type: z.string(), display_name: z.string(), link: z.string() }),
        kind: z.enum(['include', 'exclude']),
        intent: z
          .string()
          .nullable()
          .describe("An app's intent (required, available, uninstall); null for policies and scripts"),
        via: z.enum(['group', 'all_users', 'all_devices']),
        via_group: group.nullable(),
        filter: z
          .object({ id: z.string(), name: z.string().nullable(), mode: z.enum(['include', 'exclude']) })
          .nullable(),
        effective: z.boolean().describe('False for an include of an object that an exclude also reaches: excludes win'),
      }),
    ),
    warnings: z
      .array(z.object({ code: z.string(), message: z.string() }))
      .describe('What could not be read, so the answer may be partial'),
  })
  .meta({ id: 'AssignmentResolution' })

export type AssignmentResolution = z.output<typeof assignmentsResponse>
