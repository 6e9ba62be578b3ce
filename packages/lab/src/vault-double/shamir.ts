import {randomBytes} from 'node:crypto'

/**
 * Shamir's secret sharing over GF(2^8), laid out like Vault's: each share is the secret's length
 * in y-values followed by one byte holding the share's x-coordinate. The double uses it so that the
 * threshold is real: fewer shares, or shares from another init, do not give back the key.
 */

/** Multiplication in GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1. */
function mul(a: number, b: number): number {
  let product = 0
  for (let i = 0; i < 8; i++) {
    if (b & 1) product ^= a
    const carry = a & 0x80
    a = (a << 1) & 0xff
    if (carry) a ^= 0x1b
    b >>= 1
  }
  return product
}

/** a^254 = a^-1 in GF(2^8). */
function inverse(a: number): number {
  if (a === 0) throw new Error('no inverse of 0')
  let result = 1
  for (let i = 0; i < 254; i++) result = mul(result, a)
  return result
}

function evaluate(coefficients: Uint8Array, x: number): number {
  let y = 0
  for (let i = coefficients.length - 1; i >= 0; i--) y = mul(y, x) ^ coefficients[i]!
  return y
}

/** Distinct random non-zero x-coordinates. */
function pickCoordinates(count: number): number[] {
  const pool = Array.from({length: 255}, (_, i) => i + 1)
  const random = randomBytes(255)
  for (let i = pool.length - 1; i > 0; i--) {
    const j = random[i]! % (i + 1)
    ;[pool[i], pool[j]] = [pool[j]!, pool[i]!]
  }
  return pool.slice(0, count)
}

export function split(secret: Buffer, shares: number, threshold: number): Buffer[] {
  if (shares < threshold) throw new Error('threshold cannot be larger than shares')
  if (shares > 255) throw new Error('shares must be less than 256')
  if (threshold < 2) throw new Error('threshold must be at least 2')
  const xs = pickCoordinates(shares)
  const out = xs.map((x) => {
    const share = Buffer.alloc(secret.length + 1)
    share[secret.length] = x
    return share
  })
  for (let byte = 0; byte < secret.length; byte++) {
    const coefficients = randomBytes(threshold)
    coefficients[0] = secret[byte]!
    xs.forEach((x, i) => (out[i]![byte] = evaluate(coefficients, x)))
  }
  return out
}

/** Lagrange interpolation at x = 0. Throws on malformed or duplicate shares. */
export function combine(parts: Buffer[]): Buffer {
  if (parts.length < 2) throw new Error('less than two parts cannot be used to reconstruct the secret')
  const length = parts[0]!.length
  if (length < 2 || parts.some((p) => p.length !== length)) throw new Error('all parts must be the same length')
  const xs = parts.map((p) => p[length - 1]!)
  if (new Set(xs).size !== xs.length) throw new Error('duplicate part detected')
  const secret = Buffer.alloc(length - 1)
  for (let byte = 0; byte < length - 1; byte++) {
    let value = 0
    xs.forEach((xi, i) => {
      let basis = 1
      xs.forEach((xj, j) => {
        if (i !== j) basis = mul(basis, mul(xj, inverse(xj ^ xi)))
      })
      value ^= mul(parts[i]![byte]!, basis)
    })
    secret[byte] = value
  }
  return secret
}
