import { createSign, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto'

/**
 * The signing keys of the emulator's OpenID provider: RS256 key pairs as Entra publishes them at
 * `/{tenant}/discovery/v2.0/keys` (https://learn.microsoft.com/entra/identity-platform/signing-key-rollover).
 * Rotation signs with a new key and keeps publishing the previous one until it is retired, so a
 * relying party that cached the key set must refetch it when an unknown `kid` arrives.
 */

type SigningKey = { kid: string; privateKey: KeyObject; publicJwk: Record<string, unknown> }

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url')

function newKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const kid = randomUUID().replaceAll('-', '')
  const jwk = publicKey.export({ format: 'jwk' })
  return { kid, privateKey, publicJwk: { kty: 'RSA', use: 'sig', alg: 'RS256', kid, n: jwk.n, e: jwk.e } }
}

export class OidcKeys {
  #keys: SigningKey[] = [newKey()]

  /** The key set as Entra serves it: the signing key first, then the previous ones still published. */
  jwks() {
    return { keys: this.#keys.map((k) => k.publicJwk) }
  }

  get currentKid() {
    return this.#keys[0]!.kid
  }

  /** Signs with a new key; the previous ones stay published unless `retirePrevious`. */
  rotate(retirePrevious = false) {
    this.#keys = retirePrevious ? [newKey()] : [newKey(), ...this.#keys].slice(0, 3)
    return { kid: this.currentKid, published: this.#keys.map((k) => k.kid) }
  }

  /** A JWS (RS256) over the claims, with the signing key's `kid` in its header. */
  sign(claims: Record<string, unknown>): string {
    const key = this.#keys[0]!
    const head = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid: key.kid }))
    const body = b64url(JSON.stringify(claims))
    const signature = createSign('RSA-SHA256').update(`${head}.${body}`).sign(key.privateKey)
    return `${head}.${body}.${b64url(signature)}`
  }
}
