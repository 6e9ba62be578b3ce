/**
 * What pgBackRest says about its repository (`info --output=json`, `verify --output=text`), and the
 * decisions built on it: which backup a point-in-time restore starts from, and whether the time asked
 * for can be reached at all. Pure.
 */

export interface PgbackrestBackup {
  label: string
  type: 'full' | 'diff' | 'incr'
  startedAt: string
  stoppedAt: string
  sizeBytes: number
  repoSizeBytes: number
  lsnStart?: string
  lsnStop?: string
  walStart?: string
  walStop?: string
  /** The label of the backup this one depends on (diff/incr). */
  prior?: string
  error: boolean
  /** The repository holding it: 1 on the repository node, 2 offsite (pgBackRest's repo-key). */
  repo: number
}

export interface PgbackrestInfo {
  stanza: string
  /** pgBackRest's own status: code 0 ok, 1 missing stanza path, 2 no valid backups, ... */
  status: {code: number; message: string}
  cipher: string
  /** Each repository's cipher (`none` when it is not encrypted), by its number. */
  repoCiphers: Record<number, string>
  pgVersion?: string
  backups: PgbackrestBackup[]
  archive?: {min?: string; max?: string}
}

/** `20261206-031811F`, `20261206-031811F_20261206-032207I` (diff D, incr I). */
const BACKUP_LABEL = /^\d{8}-\d{6}F(_\d{8}-\d{6}[DI])?$/

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v ?? 0))
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)
const iso = (epochSeconds: unknown): string => new Date(num(epochSeconds) * 1000).toISOString()

/** Reads `pgbackrest info --output=json` for one stanza; undefined when the stanza is not there. */
export function parsePgbackrestInfo(json: unknown, stanza: string): PgbackrestInfo | undefined {
  if (!Array.isArray(json)) return undefined
  const entry = json.find((s: {name?: unknown}) => s?.name === stanza) as Record<string, any> | undefined
  if (!entry) return undefined
  // Labels and the version reach paths and commands: only the shapes pgBackRest writes are taken.
  const backups: PgbackrestBackup[] = (Array.isArray(entry.backup) ? entry.backup : [])
    .filter((b: Record<string, any>) => typeof b.label === 'string' && BACKUP_LABEL.test(b.label))
    .map((b: Record<string, any>) => ({
      label: String(b.label),
      type: b.type,
      startedAt: iso(b.timestamp?.start),
      stoppedAt: iso(b.timestamp?.stop),
      sizeBytes: num(b.info?.size),
      repoSizeBytes: num(b.info?.repository?.size),
      lsnStart: str(b.lsn?.start),
      lsnStop: str(b.lsn?.stop),
      walStart: str(b.archive?.start),
      walStop: str(b.archive?.stop),
      prior: str(b.prior),
      error: b.error === true,
      repo: Number.isInteger(b.database?.['repo-key']) ? Number(b.database['repo-key']) : 1,
    }))
  const db = Array.isArray(entry.db) ? entry.db.at(-1) : undefined
  const archive = Array.isArray(entry.archive) ? entry.archive.at(-1) : undefined
  return {
    stanza,
    status: {code: num(entry.status?.code), message: String(entry.status?.message ?? '')},
    cipher: String(entry.cipher ?? 'none'),
    repoCiphers: Object.fromEntries(
      (Array.isArray(entry.repo) ? entry.repo : [])
        .filter((r: Record<string, any>) => Number.isInteger(r?.key))
        .map((r: Record<string, any>) => [Number(r.key), String(r.cipher ?? 'none')]),
    ),
    pgVersion: /^\d+(\.\d+)?$/.test(String(db?.version ?? '')) ? String(db.version) : undefined,
    backups,
    archive: archive ? {min: str(archive.min), max: str(archive.max)} : undefined,
  }
}

export type TargetChoice = {ok: true; backup: PgbackrestBackup; target: string} | {ok: false; reason: string; hint: string; code: string}

/**
 * The backup a restore to `at` starts from: the newest good one that had finished by then (its WAL
 * replays forward to `at`); for 'latest', the newest good one (all archived WAL replays). Refuses a time in the future, one before the oldest backup finished, and
 * a repository without a usable backup.
 */
export function chooseRestoreBackup(info: PgbackrestInfo | undefined, at: Date | 'latest', now: Date): TargetChoice {
  const target = at === 'latest' ? 'latest' : at.toISOString()
  if (!info || info.backups.length === 0)
    return {
      ok: false,
      code: 'pgbackrest.no-backup',
      reason: 'the repository holds no backup of this stanza',
      hint: 'Take one first: ctl runbook pgbackrest-backup <env>.',
    }
  if (at !== 'latest' && at.getTime() > now.getTime())
    return {ok: false, code: 'pgbackrest.future-target', reason: `${target} is in the future (now ${now.toISOString()})`, hint: 'Give a time in the past.'}
  const usable = info.backups.filter((b) => !b.error).sort((a, b) => a.stoppedAt.localeCompare(b.stoppedAt))
  const before = at === 'latest' ? usable : usable.filter((b) => b.stoppedAt <= target)
  const chosen = before.at(-1)
  if (!chosen) {
    const oldest = usable[0]
    return {
      ok: false,
      code: 'pgbackrest.target-too-old',
      reason: oldest
        ? `${target} is before the oldest backup finished (${oldest.label}, ${oldest.stoppedAt}): no restore reaches it`
        : 'every backup in the repository is marked as failed',
      hint: oldest ? `The earliest time this repository can restore to is ${oldest.stoppedAt}.` : 'Take a new backup: ctl runbook pgbackrest-backup <env>.',
    }
  }
  return {ok: true, backup: chosen, target}
}

/**
 * A time as an operator types it: ISO 8601 or "YYYY-MM-DD HH:MM[:SS[.fff]]", with a zone (Z, +01:00)
 * or without (then local time on this machine, as `date` shows it). Undefined when it is not one.
 */
export function parseRestoreTime(text: string): Date | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i.exec(text.trim())
  if (!m) return undefined
  const [, y, mo, d, h, mi, s = '00', frac = '', zone] = m
  const ms = frac ? Math.round(Number(`0${frac}`) * 1000) : 0
  let date: Date
  if (zone === undefined) date = new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms)
  else {
    const offset = zone.toUpperCase() === 'Z' ? '+00:00' : zone.length === 3 ? `${zone}:00` : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`
    date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}${frac ? frac.padEnd(4, '0').slice(0, 4) : ''}${offset}`)
  }
  if (Number.isNaN(date.getTime())) return undefined
  // Reject rollovers such as 2026-02-30 (Date would make it March 2).
  const check = zone === undefined ? [date.getFullYear(), date.getMonth() + 1, date.getDate()] : undefined
  if (check && (check[0] !== Number(y) || check[1] !== Number(mo) || check[2] !== Number(d))) return undefined
  return date
}

export interface VerifyVerdict {
  ok: boolean
  /** pgBackRest's lines naming what is wrong (invalid backups, bad checksums, missing WAL). */
  problems: string[]
}

/**
 * Reads `pgbackrest verify --output=text --verbose` (2.45 exits 0 whatever it finds: the text is the
 * verdict). Without a "status: ok" line nothing is taken as good; the problems are pgBackRest's own
 * lines, less those saying all is well (valid backups, zero counters).
 */
export function parseVerifyOutput(stdout: string): VerifyVerdict {
  const lines = stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
  const status = lines.find((l) => l.startsWith('status:'))
  if (status === 'status: ok') return {ok: true, problems: []}
  const fine = (l: string) =>
    /^(stanza|status):/.test(l) ||
    /status: valid,/.test(l) ||
    /^missing: 0, checksum invalid: 0, size invalid: 0, other: 0$/.test(l) ||
    /total WAL checked: (\d+), total valid WAL: \1$/.test(l)
  const problems = lines.filter((l) => !fine(l))
  return {ok: false, problems: problems.length > 0 ? problems : [status ?? 'pgbackrest verify printed no status']}
}
