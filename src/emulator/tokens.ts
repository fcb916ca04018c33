import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * Access tokens shaped like Entra's (a JWT with tid, appid and roles), signed with a key
 * that lives only as long as the emulator process.
 */

export type TokenClaims = {
  tid: string
  appid: string
  roles: string[]
  iat: number
  nbf: number
  exp: number
  aud: string
  iss: string
}

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url')

export class TokenSigner {
  readonly #key = randomBytes(32)

  sign(claims: TokenClaims): string {
    const head = b64url(JSON.stringify({ typ: 'JWT', alg: 'HS256' }))
    const body = b64url(JSON.stringify(claims))
    return `${head}.${body}.${this.#mac(`${head}.${body}`)}`
  }

  /** The claims of a token this emulator signed, or null when it is not one. Expiry is checked by the caller. */
  verify(token: string): TokenClaims | null {
    const parts = token.split('.')
    if (parts.length !== 3) return null
    const expected = Buffer.from(this.#mac(`${parts[0]}.${parts[1]}`))
    const actual = Buffer.from(parts[2]!)
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return null
    try {
      return JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as TokenClaims
    } catch {
      return null
    }
  }

  #mac(data: string): string {
    return createHmac('sha256', this.#key).update(data).digest('base64url')
  }
}
