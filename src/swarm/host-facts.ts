/** Parsing what a host says about itself over SSH: its OS and whether the Docker Engine is installed. */

export interface OsRelease {
  id: string
  versionId?: string
  prettyName: string
  /** ID plus ID_LIKE, lower case: `ubuntu` gives [ubuntu, debian]. */
  family: string[]
}

export interface HostProbe {
  os?: OsRelease
  /** `dockerd` is on PATH. */
  dockerInstalled: boolean
}

const PROBE_SEPARATOR = '__ctl_probe__'

/** One round trip: /etc/os-release, then where dockerd lives (if anywhere). */
export function hostProbeCommand(): {script: string} {
  return {script: `cat /etc/os-release 2>/dev/null; echo ${PROBE_SEPARATOR}; command -v dockerd || true`}
}

function unquote(value: string): string {
  const v = value.trim()
  if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) return v.slice(1, -1).replace(/\\(.)/g, '$1')
  return v
}

export function parseOsRelease(text: string): OsRelease | undefined {
  const fields = new Map<string, string>()
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim())
    if (m) fields.set(m[1]!, unquote(m[2]!))
  }
  const id = fields.get('ID')?.toLowerCase()
  if (!id) return undefined
  const like = (fields.get('ID_LIKE') ?? '').toLowerCase().split(/\s+/).filter(Boolean)
  return {id, versionId: fields.get('VERSION_ID'), prettyName: fields.get('PRETTY_NAME') ?? id, family: [id, ...like]}
}

export function parseHostProbe(stdout: string): HostProbe {
  const [osPart = '', dockerPart = ''] = stdout.split(`${PROBE_SEPARATOR}\n`)
  return {os: parseOsRelease(osPart), dockerInstalled: dockerPart.trim().length > 0}
}

/** ctl installs and supports the Engine from the distribution on Debian and its derivatives. */
export function isSupportedOs(os: OsRelease | undefined): boolean {
  return Boolean(os?.family.includes('debian'))
}

/** The distribution's Docker Engine package, installed without questions (the operator was asked). */
export function installEngineCommand(): {script: string} {
  return {script: 'export DEBIAN_FRONTEND=noninteractive && apt-get update -q && apt-get install -y -q --no-install-recommends docker.io'}
}

/** Compares dotted versions numerically (`20.10.24+dfsg1` ≥ `20.10`). */
export function versionAtLeast(version: string, minimum: string): boolean {
  const parts = (v: string) => (/^\d+(\.\d+)*/.exec(v)?.[0] ?? '0').split('.').map(Number)
  const a = parts(version)
  const b = parts(minimum)
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0
    const y = b[i] ?? 0
    if (x !== y) return x > y
  }
  return true
}
