import { allProperties, derivesFrom, type GraphSchema, type SchemaProperty } from '../../scripts/graph-schema.ts'

/**
 * Checks Graph JSON against Graph's published beta schema (Microsoft's declarations, read by
 * scripts/graph-schema.ts): a problem names the type, the property and what is wrong. An object's
 * type is its `@odata.type` when it has one (which must be the expected type or derive from it),
 * otherwise the type its place declares.
 */

export type Problem = { type: string; property: string; problem: string; where: string }

const GRAPH = '#microsoft.graph.'
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

export class ConformanceChecker {
  readonly problems: Problem[] = []
  objects = 0
  properties = 0
  readonly #schema: GraphSchema

  constructor(schema: GraphSchema) {
    this.#schema = schema
  }

  /** The declared type of a navigation path from a root (`deviceManagement`, `deviceConfigurations`, …). */
  typeAt(root: string, segments: string[]): string | undefined {
    let type: string | undefined = root
    for (const s of segments) type = type ? allProperties(this.#schema, type)[s]?.type : undefined
    return type
  }

  navigationType(type: string, name: string): string | undefined {
    const p = allProperties(this.#schema, type)[name]
    return p?.kind === 'entity' ? p.type : undefined
  }

  typeExists(type: string): boolean {
    return this.#schema.types[type] !== undefined
  }

  #report(type: string, property: string, problem: string, where: string) {
    this.problems.push({ type, property, problem, where })
  }

  /** Checks one object; `expected` is the type its place declares. Returns the type it was checked as. */
  check(value: unknown, expected: string, where: string, options: { partial?: boolean } = {}): string {
    if (!isObject(value)) {
      this.#report(expected, '(object)', `not an object: ${JSON.stringify(value)?.slice(0, 60)}`, where)
      return expected
    }
    this.objects++
    let type = expected
    const odataType = value['@odata.type']
    if (odataType !== undefined) {
      const graphType = typeof odataType === 'string' && odataType.startsWith(GRAPH)
      const named = graphType ? odataType.slice(GRAPH.length) : undefined
      if (!named || !this.typeExists(named)) {
        this.#report(expected, '@odata.type', `names no Graph type: ${JSON.stringify(odataType)}`, where)
      } else if (!derivesFrom(this.#schema, named, expected)) {
        this.#report(expected, '@odata.type', `${named} does not derive from ${expected}`, where)
      } else type = named
    }
    const declared = allProperties(this.#schema, type)
    for (const [key, v] of Object.entries(value)) {
      if (key.includes('@odata.')) continue
      const p = declared[key]
      if (!p) {
        this.#report(type, key, 'not declared by the type', where)
        continue
      }
      this.properties++
      this.#value(v, p, type, key, `${where}.${key}`)
    }
    // Graph returns every structural property (null when unset); navigation properties only when expanded.
    if (!options.partial) {
      for (const [key, p] of Object.entries(declared)) {
        if (p.kind !== 'entity' && !(key in value)) this.#report(type, key, 'missing', where)
      }
    }
    return type
  }

  #value(v: unknown, p: SchemaProperty, owner: string, key: string, where: string) {
    if (v === null) {
      if (!p.nullable) this.#report(owner, key, 'null, but the property is not nullable', where)
      return
    }
    if (p.collection) {
      if (!Array.isArray(v)) {
        this.#report(owner, key, `not a collection: ${JSON.stringify(v).slice(0, 60)}`, where)
        return
      }
      v.forEach((item, i) => this.#single(item, p, owner, key, `${where}[${i}]`))
      return
    }
    this.#single(v, p, owner, key, where)
  }

  #single(v: unknown, p: SchemaProperty, owner: string, key: string, where: string) {
    switch (p.kind) {
      case 'any':
        return
      case 'primitive': {
        const wanted = p.type === 'String' ? 'string' : p.type === 'Number' ? 'number' : 'boolean'
        if (typeof v !== wanted) this.#report(owner, key, `a ${typeof v} where the schema declares ${p.type}`, where)
        return
      }
      case 'enum': {
        const members = this.#schema.enums[p.type] ?? []
        // Flags enums (brandingOptions) are comma-separated members.
        const ok = typeof v === 'string' && v.split(',').every((part) => members.includes(part.trim()))
        if (!ok) this.#report(owner, key, `${JSON.stringify(v)} is not a member of ${p.type}`, where)
        return
      }
      case 'complex':
      case 'entity':
        this.check(v, p.type, where)
    }
  }
}

/** Checks an `@odata.context` value: every type it names must be Graph's. */
export function contextTypes(context: string): string[] {
  return [...context.matchAll(/microsoft\.graph\.([A-Za-z0-9]+)/g)].map((m) => m[1]!)
}
