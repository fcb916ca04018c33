import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { SecretBox } from '../../src/lib/crypto.ts'
import { HandlerRegistry } from '../../src/jobs/handlers.ts'
import { shippedHandlers } from '../../src/jobs/shipped-handlers.ts'
import { createCatalog, type OperationSpec, SHIPPED_OPERATIONS, shippedCatalog, UNKNOWN_OPERATION_LABEL } from '../../src/modules/operations/catalog.ts'
import { testCatalog, testHandlers } from './fixtures.ts'

describe('operation catalog', () => {
  it('gives every shipped type exactly one shipped handler, and no handler a type outside it', () => {
    // Start calls and handlers are typed from the catalog (Handlers<ShippedOperationType>); this enumerates both.
    const handlers = shippedHandlers({ secrets: new SecretBox(randomBytes(32)), emulatorUrl: undefined })
    expect(Object.keys(handlers).sort()).toEqual(Object.keys(SHIPPED_OPERATIONS).sort())
    expect(Object.keys(SHIPPED_OPERATIONS)).toContain('inventory.sync')
    expect(() => new HandlerRegistry().register(handlers).assertMatches(shippedCatalog)).not.toThrow()
    for (const [type, spec] of Object.entries<OperationSpec>(SHIPPED_OPERATIONS)) {
      expect(type).toMatch(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/)
      expect(spec.label.length).toBeGreaterThan(0)
    }
  })

  it('refuses to start when a type has no handler, two handlers, or a handler without a type', () => {
    const { 'test.noop': _dropped, ...missing } = testHandlers
    expect(() => new HandlerRegistry().register(missing).assertMatches(testCatalog)).toThrow(/without a handler: test.noop/)
    expect(() => new HandlerRegistry().register(testHandlers).register({ 'test.noop': async () => {} })).toThrow(/"test.noop" has two handlers/)
    const extra = { ...testHandlers, 'test.ghost': async () => {} }
    expect(() => new HandlerRegistry<string>().register(extra).assertMatches(testCatalog)).toThrow(/not in the catalog: test.ghost/)
  })

  it('labels unknown types "Unknown operation" instead of failing', () => {
    expect(testCatalog.label('test.noop')).toBe('No-op')
    expect(testCatalog.label('legacy.removed')).toBe(UNKNOWN_OPERATION_LABEL)
    expect(testCatalog.label('__proto__')).toBe(UNKNOWN_OPERATION_LABEL)
  })

  it('refuses type names that are not domain.verb', () => {
    expect(() => createCatalog({ 'Bad Name': { label: 'x', idempotent: true, maxAttempts: 1 } })).toThrow(/domain.verb/)
  })
})
