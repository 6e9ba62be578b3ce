import {quote} from '../lib/shell.js'
import {failWith, storeBackupScript, storedFileDrillScript, type StoredFileKind} from './stored-file.js'

/**
 * Redis backups: an RDB snapshot taken with `redis-cli --rdb` from a replica (the master only when no
 * replica is connected), so the master never forks for it; counted by loading it into a scratch
 * redis-server (unix socket only, no TCP, no persistence) and reading its keys per database. Pure.
 */

/**
 * `sh -c <this> count <file>`: a copy of the RDB loaded by a scratch redis-server in a private
 * directory under /var/tmp, the keys of each database as `rows<TAB>db<N><TAB><keys>`.
 */
const countScript = [
  'pid=',
  `s=$(mktemp -d /var/tmp/ctl-redis-XXXXXX) || { printf 'scratch\\tfail\\tmktemp in /var/tmp failed\\n'; exit 0; }`,
  `cleanup() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; kill -9 "$pid" 2>/dev/null; fi; rm -rf "$s"; }`,
  'trap cleanup EXIT',
  // Room for the copy and for the scratch server's memory is not checked here: an RDB is compact, and a
  // scratch load that runs out of memory fails the start, which the caller reports.
  `cp "$1" "$s/dump.rdb" 2> "$s/copy" || ${failWith('start', '"$s/copy"')}`,
  `redis-server --port 0 --unixsocket "$s/sock" --unixsocketperm 700 --dir "$s" --dbfilename dump.rdb --save '' --appendonly no --daemonize no --logfile "$s/log" > /dev/null 2>&1 &`,
  'pid=$!',
  'r() { redis-cli -s "$s/sock" "$@" 2> /dev/null | tr -d \'\\r\'; }',
  // Started when it answers and has finished loading the file.
  `i=0; until [ "$(r info persistence | sed -n 's/^loading://p')" = 0 ]; do i=$((i+1)); if [ $i -gt 1200 ] || ! kill -0 "$pid" 2>/dev/null; then ${failWith('start', '"$s/log"')}; fi; sleep 0.1; done`,
  `printf 'start\\tok\\n'`,
  `r info keyspace | awk -F '[:=,]' '/^db[0-9]+:keys=[0-9]+/ { printf "rows\\t%s\\t%s\\n", $1, $3 }'`,
  `printf 'done\\n'`,
].join('\n')

export const REDIS_RDB: StoredFileKind = {component: 'redis', suffix: '.rdb', countScript}

export interface RedisSource {
  address: string
  port: number
}

/**
 * The backup, run on the backup node with the password (if any) on stdin: the first of `candidates`
 * that is a replica with its link to the master up, else the first that is the master, streams an
 * RDB to redis-cli (`--rdb`: the server's own full-sync snapshot, not its files on disk).
 */
export function redisBackupScript(dir: string, candidates: readonly RedisSource[], withPassword: boolean): string {
  const list = candidates.map((c) => quote(`${c.address}:${c.port}`)).join(' ')
  const cli = 'redis-cli --no-auth-warning -h "${hp%:*}" -p "${hp##*:}"'
  return storeBackupScript(REDIS_RDB, dir, [
    ...(withPassword
      ? [`IFS= read -r REDISCLI_AUTH || { printf 'take\\tfail\\tthe Redis password was not given on stdin\\n'; exit 0; }`, 'export REDISCLI_AUTH']
      : []),
    // INFO replication starts with role:, and a replica's master_link_status follows it.
    `for hp in ${list}; do case $(${cli} info replication 2> /dev/null | tr -d '\\r') in *role:slave*master_link_status:up*) src=$hp; break ;; esac; done`,
    `[ -n "$src" ] || for hp in ${list}; do case $(${cli} info replication 2> /dev/null | tr -d '\\r') in *role:master*) src=$hp; break ;; esac; done`,
    `[ -n "$src" ] || { printf 'take\\tfail\\tnone of %s answers as a connected replica or as the master\\n' ${quote(candidates.map((c) => `${c.address}:${c.port}`).join(', '))}; exit 0; }`,
    'hp=$src',
    `${cli} --rdb "$tmp" > "$tmp.err" 2>&1 || ${failWith('take', '"$tmp.err"')}`,
  ])
}

/** The drill: sha256 against the record, redis-check-rdb (Redis's own CRC64 and structure check), then the scratch load and counts. */
export function redisDrillScript(path: string, expectedSha256: string): string {
  return storedFileDrillScript(REDIS_RDB, path, expectedSha256, [
    `if ! out=$(redis-check-rdb ${quote(path)} 2>&1); then printf 'integrity\\tfail\\tredis-check-rdb: %s\\n' "$(printf '%s\\n' "$out" | grep -v '^\\[info\\]' | tail -n 2 | tr '\\n\\t' '  ')"; exit 0; fi`,
  ])
}
