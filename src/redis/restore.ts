import {quote} from '../lib/shell.js'

/**
 * redis-restore's file work on the master's node, pure: where the server keeps its files (CONFIG GET),
 * the backup staged beside them, and the swap. The backup (an RDB) becomes both the RDB file and the
 * base of a fresh multi-part AOF (Redis 7: `<appendfilename>.1.base.rdb` and a manifest naming only
 * it), so the server loads it whether appendonly is on or off: with appendonly on and no AOF, Redis 7
 * would start empty rather than read the RDB.
 */

export interface RedisFiles {
  dir: string
  dbfilename: string
  appenddirname: string
  appendfilename: string
}

/** CONFIG GET's answer (name and value on alternate lines) as the files; undefined when one is missing. */
export function parseRedisFiles(stdout: string): RedisFiles | undefined {
  const lines = stdout.split('\n').map((l) => l.trim())
  const value = (name: string) => {
    const i = lines.indexOf(name)
    return i >= 0 ? lines[i + 1] : undefined
  }
  const dir = value('dir')
  const dbfilename = value('dbfilename')
  const appenddirname = value('appenddirname')
  const appendfilename = value('appendfilename')
  const plain = (name?: string) => name !== undefined && /^[A-Za-z0-9_.-]+$/.test(name) && !name.startsWith('.')
  if (!dir?.startsWith('/') || !plain(dbfilename) || !plain(appenddirname) || !plain(appendfilename)) return undefined
  return {dir, dbfilename: dbfilename!, appenddirname: appenddirname!, appendfilename: appendfilename!}
}

/** The staged copy's path on the master's node: hidden, beside the server's files. */
export const stagedPath = (files: RedisFiles, stamp: string) => `${files.dir}/.ctl-restore-${stamp}.rdb`

/** Where the server's own files go before the swap (kept: the way back). */
export const asidePath = (files: RedisFiles, stamp: string) => `${files.dir}/ctl-before-restore-${stamp}`

/** `produce` writes the backup to stdout; the staged file must then have the backup's sha256; replaced in one rename. */
function stageScript(produce: string, staged: string, sha256: string): string {
  const next = quote(`${staged}.part`)
  return [
    'umask 077',
    `${produce} > ${next} || { rm -f ${next}; echo 'the backup did not arrive whole' >&2; exit 3; }`,
    `[ "$(sha256sum < ${next} | cut -c1-64)" = ${quote(sha256)} ] || { rm -f ${next}; echo 'the backup arrived changed (sha256)' >&2; exit 3; }`,
    `mv ${next} ${quote(staged)}`,
  ].join('\n')
}

/** Stages the backup sent on stdin as base64 (from the backup node, through ctl). */
export const receiveStagedScript = (staged: string, sha256: string) => stageScript('base64 -d', staged, sha256)

/** Stages the backup from this node's own disk (the backup node is the master's node). */
export const copyStagedScript = (from: string, staged: string, sha256: string) => stageScript(`cat ${quote(from)}`, staged, sha256)

/**
 * With the server stopped: its RDB and AOF directory moved aside once (a marker makes a resumed run
 * skip it), then the staged backup installed as the RDB and as the AOF's base, owned like the directory.
 */
export function swapFilesScript(files: RedisFiles, staged: string, aside: string): string {
  const d = quote(files.dir)
  const db = quote(files.dbfilename)
  const ad = quote(files.appenddirname)
  const base = `${files.appendfilename}.1.base.rdb`
  return [
    'set -e',
    `cd ${d}`,
    `[ -f ${quote(staged)} ] || { echo 'the staged backup is gone: run the stage step again (--resume from the start)' >&2; exit 3; }`,
    `if [ ! -e ${quote(`${aside}/.ctl-moved`)} ]; then mkdir -p ${quote(aside)}; if [ -e ${db} ]; then mv ${db} ${quote(aside)}/; fi; if [ -e ${ad} ]; then mv ${ad} ${quote(aside)}/; fi; touch ${quote(`${aside}/.ctl-moved`)}; fi`,
    'owner=$(stat -c %u:%g .)',
    `rm -rf ${quote(`${files.appenddirname}.ctl-new`)} ${quote(`${files.dbfilename}.ctl-new`)}`,
    `mkdir ${quote(`${files.appenddirname}.ctl-new`)}`,
    `cp ${quote(staged)} ${quote(`${files.appenddirname}.ctl-new/${base}`)}`,
    `printf 'file %s seq 1 type b\\n' ${quote(base)} > ${quote(`${files.appenddirname}.ctl-new/${files.appendfilename}.manifest`)}`,
    `cp ${quote(staged)} ${quote(`${files.dbfilename}.ctl-new`)}`,
    `chown -R "$owner" ${quote(`${files.appenddirname}.ctl-new`)} ${quote(`${files.dbfilename}.ctl-new`)}`,
    `rm -rf ${ad}`,
    `mv ${quote(`${files.appenddirname}.ctl-new`)} ${ad}`,
    `mv ${quote(`${files.dbfilename}.ctl-new`)} ${db}`,
    `rm -f ${quote(staged)}`,
  ].join('\n')
}

/** `INFO keyspace` as keys per database (`db0` → n). */
export function parseKeyspace(stdout: string): Record<string, number> {
  return Object.fromEntries([...stdout.matchAll(/^(db\d+):keys=(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]))
}
