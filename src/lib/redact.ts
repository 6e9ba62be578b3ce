/**
 * Secret redaction: every secret ctl resolves is registered here, and everything that reaches output,
 * the journal or the audit log passes through `redact`.
 */

const secrets = new Set<string>()
const REDACTED = '***'

/** Remembers a secret value so that it never appears in output or logs. Very short values are ignored. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) secrets.add(value)
}

/** Forgets all registered secrets (tests). */
export function clearSecrets(): void {
  secrets.clear()
}

const SECRET_ASSIGNMENT = /((?:password|passwd|secret|token|unseal_key|root_token|api[_-]?key)["']?\s*[:=]\s*["']?)([^\s"',}]+)/gi

/** Replaces registered secrets and obvious `password=...` assignments with `***`. */
export function redact(text: string): string {
  let result = text
  // Longest first, so a secret containing another is removed whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    result = result.split(secret).join(REDACTED)
  }
  return result.replace(SECRET_ASSIGNMENT, `$1${REDACTED}`)
}

/** Redacts every string inside a JSON-like value. */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T
  if (Array.isArray(value)) return value.map((v) => redactDeep(v)) as T
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v)])) as T
  }
  return value
}
