import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  generateAppKey,
  generateToken,
  hashPassword,
  parseAppKey,
  SecretBox,
  sha256,
  verifyPassword,
} from './crypto.ts'

describe('passwords', () => {
  it('hashes with scrypt and a per-password salt, and verifies', async () => {
    const a = await hashPassword('a long passphrase')
    const b = await hashPassword('a long passphrase')
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$/)
    expect(a).not.toBe(b)
    expect(await verifyPassword('a long passphrase', a)).toBe(true)
    expect(await verifyPassword('a long passphrasE', a)).toBe(false)
    expect(await verifyPassword('x', 'not-a-hash')).toBe(false)
  })
})

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32))

  it('round-trips and never stores the plaintext', () => {
    const sealed = box.encrypt('client-secret-value', 'tenant:1')
    expect(sealed).not.toContain('client-secret-value')
    expect(box.decrypt(sealed, 'tenant:1')).toBe('client-secret-value')
    expect(box.encrypt('client-secret-value', 'tenant:1')).not.toBe(sealed) // fresh IV each time
  })

  it('refuses other associated data, another key and tampering', () => {
    const sealed = box.encrypt('s', 'tenant:1')
    expect(() => box.decrypt(sealed, 'tenant:2')).toThrow()
    expect(() => new SecretBox(randomBytes(32)).decrypt(sealed, 'tenant:1')).toThrow()
    const parts = sealed.split(':')
    // One bit of the ciphertext flipped (a fixed replacement byte would equal the ciphertext once in 256 runs).
    const ciphertext = Buffer.from(parts[3]!, 'base64url')
    ciphertext[0]! ^= 1
    parts[3] = ciphertext.toString('base64url')
    expect(() => box.decrypt(parts.join(':'), 'tenant:1')).toThrow()
  })
})

describe('APP_KEY', () => {
  it('accepts 32 bytes as base64 or hex and nothing else', () => {
    expect(parseAppKey(generateAppKey())).toHaveLength(32)
    expect(parseAppKey('ab'.repeat(32))).toHaveLength(32)
    expect(() => parseAppKey('too-short')).toThrow(/32 bytes/)
  })
})

describe('tokens', () => {
  it('carries a prefix and 256 bits, and hashes deterministically', () => {
    const token = generateToken('ta_pat')
    expect(token).toMatch(/^ta_pat_[\w-]{43}$/)
    expect(sha256(token)).toBe(sha256(token))
    expect(sha256(token)).not.toBe(sha256(generateToken('ta_pat')))
  })
})
