import { z } from 'zod'

export const errorEnvelope = z
  .object({
    error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
  })
  .meta({ id: 'Error' })

/** Adds the error envelope to a route's documented responses. */
export const responses = <R extends Record<number, z.ZodType>>(success: R) => ({
  ...success,
  400: errorEnvelope,
  401: errorEnvelope,
  403: errorEnvelope,
  404: errorEnvelope,
  409: errorEnvelope,
  422: errorEnvelope,
  429: errorEnvelope,
})

export const listEnvelope = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), next_cursor: z.string().nullable() })

export const cursorQuery = z.object({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number({ error: 'must be a number' }).int().min(1).max(200).default(50),
})

/**
 * The body limit of routes that take up to 10,000 ids (bulk `item_ids`, restore `item_ids` and
 * `mapping`): 10,000 UUIDs are about 390 KB as JSON, past the default 256 KiB (ADR 022).
 */
export const ID_LIST_BODY_LIMIT = 1024 * 1024

/** The `:tenantId` of every tenant route. */
export const tenantIdParams = z.object({ tenantId: z.string() })
