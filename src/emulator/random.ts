/**
 * Deterministic randomness for the generator: every object is a pure function of
 * (seed, type, index), so a 100,000-object tenant needs no memory until it is read.
 */

/** FNV-1a over the joined parts, 32 bits. */
export function hash32(...parts: (string | number)[]): number {
  let h = 0x811c9dc5
  const text = parts.join('\u0000')
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

export type Rng = {
  /** A float in [0, 1). */
  next(): number
  int(maxExclusive: number): number
  pick<T>(items: readonly T[]): T
  chance(p: number): boolean
}

/** mulberry32: small, fast and good enough for plausible fake data. */
export function rng(seed: number): Rng {
  let state = seed >>> 0
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  const int = (max: number) => Math.floor(next() * max)
  return { next, int, pick: (items) => items[int(items.length)]!, chance: (p) => next() < p }
}

/** An odd multiplier spreads consecutive indexes over the id space; its inverse mod 2^32 decodes them. */
const SPREAD = 0x9e3779b1
const SPREAD_INVERSE = (() => {
  let inverse = SPREAD
  for (let i = 0; i < 5; i++) inverse = Math.imul(inverse, 2 - Math.imul(SPREAD, inverse))
  return inverse >>> 0
})()

const hex = (n: number, width: number) => (n >>> 0).toString(16).padStart(width, '0').slice(-width)

/** A GUID-shaped id whose last 48 bits carry `index` (masked), so it decodes without a lookup table. */
export function encodeGuid(prefixSeed: number, index: number): string {
  const a = hash32(prefixSeed, 'a')
  const b = hash32(prefixSeed, 'b')
  const mask = hash32(prefixSeed, 'm') & 0xffff
  const low = (Math.imul(index, SPREAD) ^ hash32(prefixSeed, 'l')) >>> 0
  return `${hex(a, 8)}-${hex(b >>> 16, 4)}-4${hex(b, 3)}-${hex(0x8000 | (b & 0x3fff), 4)}-${hex(mask, 4)}${hex(low, 8)}`
}

/** The first 28 characters identify the (tenant, type) an encoded id belongs to. */
export const guidPrefix = (id: string) => id.slice(0, 28)

export function decodeGuidIndex(prefixSeed: number, id: string): number | undefined {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) return undefined
  const low = Number.parseInt(id.slice(28), 16)
  return Math.imul((low ^ hash32(prefixSeed, 'l')) >>> 0, SPREAD_INVERSE) >>> 0
}

export function randomGuid(r: Rng): string {
  const h = (w: number) => hex(Math.floor(r.next() * 2 ** 32), w)
  return `${h(8)}-${h(4)}-4${h(3)}-${hex(0x8000 | r.int(0x4000), 4)}-${h(4)}${h(8)}`
}
