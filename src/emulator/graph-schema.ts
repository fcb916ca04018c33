import { readFileSync } from 'node:fs'
import type { FilterNode } from './odata.ts'

/**
 * Graph's beta schema as the emulator serves it: the types of the catalog's collections, what
 * derives from them and what they reach, generated from Microsoft's published declarations by
 * `npm run emulator:schema` (scripts/graph-schema.ts, ADR 025) into graph-schema.json. Objects,
 * assignments and children are completed from it (every declared property present, null when
 * unset, as Graph returns them) and writes are checked against it.
 */

type CompactType = { base?: string; entity?: true; properties: Record<string, string> }
type Compact = { source: string; types: Record<string, CompactType>; enums: Record<string, string[]> }

export type PropertyKind = 'primitive' | 'enum' | 'complex' | 'entity' | 'any'
export type Property = { name: string; type: string; kind: PropertyKind; collection: boolean; nullable: boolean }

const SCHEMA = JSON.parse(readFileSync(new URL('./graph-schema.json', import.meta.url), 'utf8')) as Compact
const GRAPH = '#microsoft.graph.'
const PRIMITIVES = new Set(['String', 'Number', 'Boolean'])

export const SCHEMA_SOURCE = SCHEMA.source

function decode(name: string, spec: string): Property {
  const nullable = spec.startsWith('?')
  let rest = nullable ? spec.slice(1) : spec
  const collection = rest.startsWith('[]')
  if (collection) rest = rest.slice(2)
  const kind: PropertyKind = PRIMITIVES.has(rest)
    ? 'primitive'
    : SCHEMA.enums[rest]
      ? 'enum'
      : SCHEMA.types[rest]
        ? SCHEMA.types[rest]?.entity
          ? 'entity'
          : 'complex'
        : 'any'
  return { name, type: rest, kind, collection, nullable }
}

const PROPERTIES = new Map<string, Map<string, Property>>()

/** Every property of a type, its base types' first (undefined for a type the schema lacks). */
export function propertiesOf(type: string): Map<string, Property> | undefined {
  const cached = PROPERTIES.get(type)
  if (cached) return cached
  if (!SCHEMA.types[type]) return undefined
  const chain: CompactType[] = []
  for (let t: CompactType | undefined = SCHEMA.types[type]; t; t = t.base ? SCHEMA.types[t.base] : undefined) {
    chain.unshift(t)
  }
  const out = new Map<string, Property>()
  for (const t of chain) for (const [name, spec] of Object.entries(t.properties)) out.set(name, decode(name, spec))
  PROPERTIES.set(type, out)
  return out
}

export const typeExists = (type: string) => SCHEMA.types[type] !== undefined
export const enumMembers = (name: string): readonly string[] => SCHEMA.enums[name] ?? []

export function derivesFrom(type: string, base: string): boolean {
  for (let t: string | undefined = type; t; t = SCHEMA.types[t]?.base) if (t === base) return true
  return false
}

/** The type an `@odata.type` annotation names (`#microsoft.graph.x` → `x`), or undefined. */
export function annotatedType(value: Record<string, unknown>): string | undefined {
  const t = value['@odata.type']
  return typeof t === 'string' && t.startsWith(GRAPH) ? t.slice(GRAPH.length) : undefined
}

const ROOTS: Record<string, string> = {
  deviceManagement: 'deviceManagement',
  deviceAppManagement: 'deviceAppManagement',
  identity: 'identityContainer',
}

/** The type a path below a root declares (`deviceManagement/deviceConfigurations` → deviceConfiguration). */
export function typeOfPath(path: string): string | undefined {
  const [root, ...segments] = path.split('/')
  let type: string | undefined = ROOTS[root!]
  for (const s of segments) type = type ? propertiesOf(type)?.get(s)?.type : undefined
  return type
}

/** The entity type a navigation property of `type` holds (`assignments` → deviceConfigurationAssignment). */
export function navigationType(type: string, name: string): string | undefined {
  const p = propertiesOf(type)?.get(name)
  return p?.kind === 'entity' ? p.type : undefined
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * What Graph returns for a declared property nobody set: an empty collection for a collection
 * (OData never serves a collection as null: on a collection, `Nullable` says whether its items
 * may be null, OData CSDL 4.01 §7.2.1; IntuneCD's backup iterates an ESP's unset
 * `selectedMobileAppIds` and failed on null), else null, or the type's zero where it is not nullable.
 */
function unset(p: Property, depth: number): unknown {
  if (p.collection) return []
  if (p.nullable) return null
  switch (p.kind) {
    case 'primitive':
      return p.type === 'Boolean' ? false : p.type === 'Number' ? 0 : ''
    case 'enum':
      return enumMembers(p.type)[0] ?? null
    case 'complex':
      return depth < 4 ? conform({}, p.type, depth + 1) : null
    default:
      return null
  }
}

/**
 * An object as Graph serves it for `type` (or the type its `@odata.type` names): `@odata.type` and
 * `id` first, then every declared structural property (null or zero when unset, complex values
 * completed in turn), then whatever else it carries (annotations, expanded navigation properties).
 */
export function conform(value: Record<string, unknown>, type: string, depth = 0): Record<string, unknown> {
  const actual = annotatedType(value) ?? type
  const properties = propertiesOf(actual)
  if (!properties) return value
  const out: Record<string, unknown> = {}
  if ('@odata.type' in value) out['@odata.type'] = value['@odata.type']
  if ('id' in value) out.id = value.id
  for (const p of properties.values()) {
    if (p.name === 'id') continue
    const v = value[p.name]
    // Navigation properties appear only when expanded.
    if (v === undefined) {
      if (p.kind !== 'entity') out[p.name] = unset(p, depth)
    } else if ((p.kind === 'complex' || p.kind === 'entity') && v !== null) {
      const complete = (item: unknown) => (isObject(item) ? conform(item, p.type, depth + 1) : item)
      out[p.name] = Array.isArray(v) ? v.map(complete) : complete(v)
    } else out[p.name] = v
  }
  for (const [key, v] of Object.entries(value)) if (!(key in out)) out[key] = v
  return out
}

/**
 * Only the properties the object's own `@odata.type` declares (annotations kept): for generators
 * whose derived types differ (iOS says passcodeRequired where Windows says passwordRequired).
 */
export function declaredOnly(value: Record<string, unknown>): Record<string, unknown> {
  const type = annotatedType(value)
  const properties = type ? propertiesOf(type) : undefined
  if (!properties) return value
  return Object.fromEntries(Object.entries(value).filter(([key]) => key.includes('@odata.') || properties.has(key)))
}

/** A write refused against the schema: Graph's (OData's) message for it. */
export type SchemaViolation = { message: string }

const EDM: Record<string, string> = { String: 'Edm.String', Number: 'Edm.Int32', Boolean: 'Edm.Boolean' }

/**
 * Checks a written object against its type as OData does before a service sees it: a property
 * the type does not declare, a value of the wrong type, an enum value outside the enum (flags:
 * comma-separated members) or a null where the property is not nullable is refused with the
 * message Graph's OData layer gives. Navigation properties and annotations are the caller's.
 */
export function schemaViolation(value: Record<string, unknown>, type: string, path = ''): SchemaViolation | undefined {
  const named = annotatedType(value)
  if (value['@odata.type'] !== undefined && (!named || !typeExists(named))) {
    return { message: `A type named '${JSON.stringify(value['@odata.type'])}' could not be resolved by the model.` }
  }
  if (named && !derivesFrom(named, type)) {
    const message =
      `The type 'microsoft.graph.${named}' is not compatible with the expected type ` + `'microsoft.graph.${type}'.`
    return { message }
  }
  const actual = named ?? type
  const properties = propertiesOf(actual)
  if (!properties) return undefined
  for (const [key, v] of Object.entries(value)) {
    if (key.includes('@odata.')) continue
    const p = properties.get(key)
    const at = path ? `${path}.${key}` : key
    if (!p) {
      return {
        message:
          `The property '${at}' does not exist on type 'microsoft.graph.${actual}'. Make sure to only use ` +
          'property names that are defined by the type or mark the type as open type.',
      }
    }
    if (p.kind === 'entity') continue
    const found = valueViolation(v, p, at)
    if (found) return found
  }
  return undefined
}

function valueViolation(v: unknown, p: Property, at: string): SchemaViolation | undefined {
  if (v === null) {
    if (p.nullable) return undefined
    const declared = `${expected(p)}[Nullable=False]`
    return {
      message:
        `A null value was found for the property named '${at}', which has the expected type '${declared}'. ` +
        `The expected type '${declared}' does not allow null values.`,
    }
  }
  if (p.collection) {
    if (!Array.isArray(v)) {
      return { message: `The property '${at}' is a collection (Collection(${expected(p)})): send a JSON array.` }
    }
    for (const [i, item] of v.entries()) {
      const found = valueViolation(item, { ...p, collection: false, nullable: true }, `${at}[${i}]`)
      if (found) return found
    }
    return undefined
  }
  switch (p.kind) {
    case 'primitive': {
      const wanted = p.type === 'String' ? 'string' : p.type === 'Number' ? 'number' : 'boolean'
      if (typeof v === wanted) return undefined
      const literal = JSON.stringify(v)
      const edm = EDM[p.type]!
      return { message: `Cannot convert the literal '${literal}' to the expected type '${edm}' (property '${at}').` }
    }
    case 'enum': {
      const members = enumMembers(p.type)
      const ok = typeof v === 'string' && v.split(',').every((part) => members.includes(part.trim()))
      if (ok) return undefined
      const value = JSON.stringify(v)
      return { message: `The value ${value} is not valid for the enum type 'microsoft.graph.${p.type}' ('${at}').` }
    }
    case 'complex':
      if (isObject(v)) return schemaViolation(v, p.type, at)
      return { message: `The property '${at}' expects an object of type 'microsoft.graph.${p.type}'.` }
    default:
      return undefined
  }
}

const expected = (p: Property) => (p.kind === 'primitive' ? EDM[p.type]! : `microsoft.graph.${p.type}`)

/** Types derived from `type` (itself included), for properties a filter may name on derived objects. */
function derivedTypes(type: string): string[] {
  return Object.keys(SCHEMA.types).filter((t) => derivesFrom(t, type))
}

/**
 * The first property path in a `$filter` that neither the type nor a type derived from it
 * declares (a cast segment `microsoft.graph.x/…` names the type to look in; complex properties
 * are walked), or undefined when the filter names only real properties.
 */
export function unknownFilterProperty(node: FilterNode, type: string): string | undefined {
  switch (node.op) {
    case 'or':
    case 'and':
    case 'cmp':
      return unknownFilterProperty(node.left, type) ?? unknownFilterProperty(node.right, type)
    case 'not':
      return unknownFilterProperty(node.operand, type)
    case 'call':
      return node.args.map((a) => unknownFilterProperty(a, type)).find((u) => u !== undefined)
    case 'path':
      return pathExists(node.segments, type) ? undefined : node.segments.join('/')
    default:
      return undefined
  }
}

function pathExists(segments: string[], type: string): boolean {
  const [first, ...rest] = segments
  if (first === undefined) return true
  if (first.startsWith('microsoft.graph.')) {
    const cast = first.slice('microsoft.graph.'.length)
    return typeExists(cast) && pathExists(rest, cast)
  }
  for (const t of derivedTypes(type)) {
    const p = propertiesOf(t)?.get(first)
    if (p && (rest.length === 0 || pathExists(rest, p.type))) return true
  }
  return false
}
