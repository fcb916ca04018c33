import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  randomBytes,
  scrypt,
  timingSafeEqual,
} from 'node:crypto'
import type { Hmac } from 'node:crypto'
import { promisify } from 'node:util'

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>

// OWASP's scrypt recommendation (N=2^17 would cost 128 MiB per sign-in; 2^15 is 32 MiB, ~60 ms).
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, keylen: 32 }

/** `scrypt$N$r$p$salt$hash`, all parameters stored so they can be raised later. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  const hash = await scryptAsync(password, salt, SCRYPT.keylen, {
    N: SCRYPT.N,
    r: SCRYPT.r,
    p: SCRYPT.p,
    maxmem: 64 * 1024 * 1024,
  })
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64url'), hash.toString('base64url')].join('$')
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$')
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false
  const expected = Buffer.from(hash, 'base64url')
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64url'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: 256 * 1024 * 1024,
  })
  return actual.length === expected.length && timingSafeEqual(actual, expected)
}

/** A password hash that no password matches, compared against when the account does not exist (equal timing). */
let dummyHash: Promise<string> | undefined
export const dummyPasswordHash = () => (dummyHash ??= hashPassword(randomBytes(16).toString('hex')))

/** A bearer secret: a readable prefix and 256 random bits. Only its SHA-256 is stored. */
export const generateToken = (prefix: string) => `${prefix}_${randomBytes(32).toString('base64url')}`

export const sha256 = (value: string) => createHash('sha256').update(value).digest('hex')

export const generatePassword = () => randomBytes(15).toString('base64url')

/**
 * AES-256-GCM for secrets at rest. The associated data binds a ciphertext to the row it
 * belongs to, so a secret copied into another tenant's row does not decrypt.
 */
export class SecretBox {
  readonly #key: Buffer

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('APP_KEY must be 32 bytes')
    this.#key = key
  }

  /**
   * An HMAC-SHA256 keyed with a key derived from APP_KEY for one purpose (e.g. signing exported
   * backup manifests), so the key for secrets at rest is never used as a MAC key itself.
   */
  mac(purpose: string): Hmac {
    return createHmac('sha256', createHmac('sha256', this.#key).update(`tenantatlas:${purpose}`).digest())
  }

  encrypt(plaintext: string, associatedData: string): string {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv)
    cipher.setAAD(Buffer.from(associatedData))
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
    return [
      'v1',
      iv.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
      ciphertext.toString('base64url'),
    ].join(':')
  }

  decrypt(sealed: string, associatedData: string): string {
    const [version, iv, tag, ciphertext] = sealed.split(':')
    if (version !== 'v1' || !iv || !tag || ciphertext === undefined) throw new Error('Unreadable encrypted value')
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'))
    decipher.setAAD(Buffer.from(associatedData))
    decipher.setAuthTag(Buffer.from(tag, 'base64url'))
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8')
  }
}

/** APP_KEY is 32 bytes, written as 64 hex characters or as base64. */
export function parseAppKey(value: string): Buffer {
  const trimmed = value.trim()
  const key = /^[0-9a-f]{64}$/i.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64')
  if (key.length !== 32) throw new Error('APP_KEY must be 32 bytes: 64 hex characters or 44 base64 characters')
  return key
}

export const generateAppKey = () => randomBytes(32).toString('base64')
