import { tooDeep } from './json-depth.ts'

/**
 * Canonical forms of JSON values, shared by the Graph write layer (content checks) and the
 * modules (run identities, inventory hashes): graph/ may not import modules/, so they live here.
 */

/** Past this, canonicalJson refuses (inputs are depth-checked long before: this only keeps the recursion bounded). */
const CANONICAL_MAX_DEPTH = 256

/** JSON with object keys sorted at every level, so the same context always reads the same. */
export function canonicalJson(value: unknown, depth = 0): string {
  if (depth > CANONICAL_MAX_DEPTH) throw tooDeep('A JSON value', CANONICAL_MAX_DEPTH)
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v, depth + 1)).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v, depth + 1)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

const VOLATILE_KEYS = new Set(['lastModifiedDateTime', 'modifiedDateTime'])
const isVolatile = (key: string) => VOLATILE_KEYS.has(key) || (key.includes('@odata.') && key !== '@odata.type')

/**
 * Text from Graph as PostgreSQL can store it: NUL characters are dropped, and a lone UTF-16
 * surrogate (which jsonb refuses, failing the whole page) becomes U+FFFD.
 */
export const storableText = (text: string) => (text.includes('\0') ? text.replaceAll('\0', '') : text).toWellFormed()

/** Drops volatile fields and sorts arrays (by each element's canonical JSON) at every level; text is made storable (storableText). */
export function normaliseValue(value: unknown): unknown {
  if (typeof value === 'string') return storableText(value)
  if (Array.isArray(value)) {
    const items = value.map(normaliseValue)
    const keyed = items.map((item) => ({ item, key: canonicalJson(item) }))
    keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    return keyed.map((k) => k.item)
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) {
      if (isVolatile(key)) continue
      const v = (value as Record<string, unknown>)[key]
      if (v !== undefined) out[storableText(key)] = normaliseValue(v)
    }
    return out
  }
  return value
}
