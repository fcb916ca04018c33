import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { SecretBox } from '../../src/lib/crypto.ts'
import { HandlerRegistry } from '../../src/modules/operations/handlers.ts'
import { shippedCatalog, shippedHandlers } from '../../src/operation-types.ts'
import { createCatalog, type OperationSpec, UNKNOWN_OPERATION_LABEL } from '../../src/modules/operations/catalog.ts'
import { CAPABILITIES } from '../../src/modules/access/policy.ts'
import { testCatalog, testHandlers, testType } from './fixtures.ts'

describe('operation catalog', () => {
  it('gives every shipped type exactly one shipped handler, and no handler a type outside it', () => {
    // Start calls and handlers are typed from the catalog (Handlers<ShippedOperationType>); this enumerates both.
    const handlers = shippedHandlers({ secrets: new SecretBox(randomBytes(32)), emulatorUrl: undefined })
    expect(Object.keys(handlers).sort()).toEqual(shippedCatalog.types())
    expect(shippedCatalog.types()).toContain('inventory.sync')
    expect(() => new HandlerRegistry().register(handlers).assertMatches(shippedCatalog)).not.toThrow()
    for (const [type, spec] of Object.entries<OperationSpec>(shippedCatalog.specs)) {
      expect(type).toMatch(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/)
      expect(spec.label.length).toBeGreaterThan(0)
      expect(spec.description.length).toBeGreaterThan(0)
      expect(CAPABILITIES).toContain(spec.capability)
      for (const fix of Object.values(spec.failureCodes)) expect(fix.length).toBeGreaterThan(0)
    }
  })

  it('refuses to start when a type has no handler, two handlers, or a handler without a type', () => {
    const { 'test.noop': _dropped, ...missing } = testHandlers
    expect(() => new HandlerRegistry().register(missing).assertMatches(testCatalog)).toThrow(
      /without a handler: test.noop/,
    )
    expect(() => new HandlerRegistry().register(testHandlers).register({ 'test.noop': async () => {} })).toThrow(
      /"test.noop" has two handlers/,
    )
    const extra = { ...testHandlers, 'test.ghost': async () => {} }
    expect(() => new HandlerRegistry<string>().register(extra).assertMatches(testCatalog)).toThrow(
      /not in the catalog: test.ghost/,
    )
  })

  it('describes every type with the failure codes the engine itself records', () => {
    const sync = shippedCatalog.describe().find((t) => t.type === 'inventory.sync')
    expect(sync).toMatchObject({
      type: 'inventory.sync',
      label: 'Inventory sync',
      capability: 'inventory.sync',
      cancellable: true,
      rerunnable: true,
      schedulable: true,
    })
    const codes = sync!.failure_codes.map((f) => f.code)
    // The codes the Graph layer and the engine emit, so a throttled run shows its fix.
    for (const code of [
      'missing_permission',
      'throttled_exhausted',
      'invalid_credentials',
      'worker_lost',
      'cancel_timeout',
    ])
      expect(codes).toContain(code)
  })

  it('re-validates a stored inventory input to the same canonical form (a re-run starts the same run)', () => {
    const { input } = shippedCatalog.spec('inventory.sync')
    const first = input.parse({
      selection: { policy_types: ['deviceConfiguration', 'deviceCompliancePolicy', 'deviceConfiguration'] },
    })
    expect(input.parse(first)).toEqual(first)
    expect(input.safeParse({ selection: { policy_types: ['nope'] } }).success).toBe(false)
  })

  it('re-validates a stored backup input to the same canonical form; items alone have no selection', () => {
    const { input } = shippedCatalog.spec('backup.create')
    const first = input.parse({
      name: ' Nightly ',
      selection: { categories: ['Compliance'] },
      item_ids: ['01a22c78-52c4-7366-971c-a809758a6e5d', '01a22c78-52c4-7366-971c-a809758a6e5d'],
    })
    expect(first).toMatchObject({ name: 'Nightly', item_ids: ['01a22c78-52c4-7366-971c-a809758a6e5d'] })
    expect(input.parse(first)).toEqual(first)
    const items = input.parse({ item_ids: ['01a22c78-52c4-7366-971c-a809758a6e5d'] })
    expect(items).toMatchObject({ selection: null })
    expect(input.parse(items)).toEqual(items)
    expect(input.safeParse({ item_ids: ['nope'] }).success).toBe(false)
  })

  it('labels unknown types "Unknown operation" instead of failing', () => {
    expect(testCatalog.label('test.noop')).toBe('No-op')
    expect(testCatalog.label('legacy.removed')).toBe(UNKNOWN_OPERATION_LABEL)
    expect(testCatalog.label('__proto__')).toBe(UNKNOWN_OPERATION_LABEL)
  })

  it('refuses type names that are not domain.verb', () => {
    expect(() => createCatalog({ 'Bad Name': testType({ label: 'x', idempotent: true, maxAttempts: 1 }) })).toThrow(
      /domain.verb/,
    )
  })
})
