import {parseDrillOutput} from '../backups/drill.js'
import {CtlError, ExitCode} from '../lib/errors.js'
import {lastLines} from '../lib/output.js'
import type {RemoteCommand} from '../lib/shell.js'
import {parseRestoreTime} from '../patroni/pgbackrest-info.js'
import {table} from './render.js'
import type {StepContext} from './types.js'

/** What the point-in-time runbooks (pg-pitr, mariadb-pitr) share: reading --at, counting the scratch server's rows. */

/** --at as a time (ISO 8601 or "date time", local without a zone), or 'latest' where allowed; refused before anything runs. */
export function requireRestoreTime(text: string | undefined, options: {latest: boolean}): Date | 'latest' {
  if (options.latest && text === 'latest') return 'latest'
  const at = text ? parseRestoreTime(text) : undefined
  if (!at)
    throw new CtlError(`--at needs a time such as "2026-12-01 10:42:00" or 2026-12-01T10:42:00Z, not "${text ?? ''}"`, {
      exitCode: ExitCode.cannotRun,
      code: 'pitr.bad-time',
      hint: `Without a zone the time is local to this machine; add Z or +01:00 to be explicit.${options.latest ? ' "latest" restores everything archived.' : ''}`,
    })
  return at
}

/** Runs the scratch server's row count on `node`, reports one row per table, returns the counts; every table must be readable. */
export async function countScratchRows(
  ctx: Pick<StepContext<unknown>, 'run' | 'report'>,
  node: string,
  command: RemoteCommand,
  code: string,
): Promise<Record<string, number>> {
  const r = await ctx.run(node, command, {timeoutMs: 12 * 3600_000})
  const out = parseDrillOutput(r.stdout)
  if (r.code !== 0 || !out.finished) throw new CtlError(`The restored server's tables could not all be read: ${lastLines(r, 3, ' ')}`, {host: node, code})
  ctx.report(
    table(
      ['table', 'rows'],
      Object.entries(out.rows).map(([t, n]) => [t, String(n)]),
    ),
  )
  return out.rows
}
