import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { API_TYPES_FILE, generateApiTypes, render } from '../scripts/api-types.ts'

describe("the console's generated API types", () => {
  it('are what the server describes now (run `npm run api:types` when this fails)', async () => {
    expect(
      readFileSync(API_TYPES_FILE, 'utf8') === (await generateApiTypes()),
      'web/src/lib/api-types.ts is stale: run `npm run api:types`',
    ).toBe(true)
  })

  it('change when a response schema changes (the check can fail)', () => {
    const document = (extra: Record<string, unknown>) => ({
      paths: {
        '/api/x': {
          get: {
            responses: { 200: { content: { 'application/json': { schema: { $ref: '#/components/schemas/X' } } } } },
          },
        },
      },
      components: {
        schemas: { X: { type: 'object', properties: { id: { type: 'string' }, ...extra }, required: ['id'] } },
      },
    })
    const before = render(document({}))
    const after = render(document({ added: { type: ['string', 'null'] } }))
    expect(before).toContain('"GET /api/x": Schemas["X"]')
    expect(after).not.toBe(before)
    expect(after).toContain('added?: string | null')
  })
})
