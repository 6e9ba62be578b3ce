import {quote} from '../lib/shell.js'
import {failWith, storeBackupScript, storedFileDrillScript, type StoredFileKind} from './stored-file.js'

/**
 * RabbitMQ backups: the cluster's definitions (vhosts, users, permissions, queues, exchanges,
 * bindings, policies, parameters) as `rabbitmqctl export_definitions` writes them. Messages are not in
 * them: durable messages live in the nodes' data, which rabbitmq-recover brings back. Counted, and
 * drilled, by importing them into a scratch broker started from RabbitMQ's own scripts (as root, with
 * a private HOME, cookie, epmd port and data directory, listening on 127.0.0.1 only). Pure.
 */

/** What a broker holds, per kind of definition, as `kind=n kind=n ...` (rabbitmqctl eval prints it quoted). */
export const DEFINITION_COUNTS_EVAL =
  'D = rabbit_definitions:all_definitions(), lists:flatten([io_lib:format("~s=~b ", [K, length(V)]) || {K, V} <- lists:sort(maps:to_list(D)), is_list(V)]).'

/** Reads DEFINITION_COUNTS_EVAL's answer. */
export function parseDefinitionCounts(text: string): Record<string, number> {
  return Object.fromEntries([...text.replaceAll('"', ' ').matchAll(/([a-z_]+)=(\d+)/g)].map((m) => [m[1]!, Number(m[2])]))
}

/**
 * The kinds a restore must bring back, compared with the counts at backup time. Not users, vhosts or
 * permissions: the scratch broker that counted them adds its own default user and vhost.
 */
const RESTORED_KINDS = ['queues', 'exchanges', 'bindings', 'policies'] as const

/** Kinds the cluster holds fewer of than the backup did: what an import did not bring back. */
export function missingAfterImport(recorded: Record<string, number>, cluster: Record<string, number>): string[] {
  return RESTORED_KINDS.filter((k) => (cluster[k] ?? 0) < (recorded[k] ?? 0)).map(
    (k) => `${k}: ${cluster[k] ?? 0} in the cluster, ${recorded[k]} in the backup`,
  )
}

/** `sh -c <this> count <file>` with `bin` (RabbitMQ's scripts directory) as `$bin`. */
function countScript(bin: string): string {
  return [
    `bin=${quote(bin)}`,
    `s=$(mktemp -d /var/tmp/ctl-rabbitmq-XXXXXX) || { printf 'scratch\\tfail\\tmktemp in /var/tmp failed\\n'; exit 0; }`,
    // Ports of its own, from the script's pid: epmd, distribution, AMQP (127.0.0.1 only).
    'p=$(( 40000 + ($$ % 5000) * 3 ))',
    'node="ctldrill$$@localhost"',
    `export HOME="$s" ERL_EPMD_PORT=$p RABBITMQ_NODENAME="$node" RABBITMQ_USE_LONGNAME=false RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$((p+2)) RABBITMQ_DIST_PORT=$((p+1)) RABBITMQ_MNESIA_BASE="$s/mnesia" RABBITMQ_LOG_BASE="$s/log" RABBITMQ_ENABLED_PLUGINS_FILE="$s/plugins" RABBITMQ_CONFIG_FILE="$s/none" RABBITMQ_ADVANCED_CONFIG_FILE="$s/none.config" RABBITMQ_CONF_ENV_FILE="$s/none-env" RABBITMQ_PID_FILE="$s/pid"`,
    `export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS='-kernel inet_dist_use_interface {127,0,0,1}'`,
    'rctl() { "$bin/rabbitmqctl" -q -n "$node" "$@"; }',
    `cleanup() { rctl shutdown > /dev/null 2>&1 || { [ -f "$s/pid" ] && kill -9 "$(cat "$s/pid")" 2> /dev/null; }; epmd -kill > /dev/null 2>&1; rm -rf "$s"; }`,
    'trap cleanup EXIT',
    `[ -x "$bin/rabbitmq-server" ] || { printf 'start\\tfail\\tno %s/rabbitmq-server on this node (databases.rabbitmq.serverBinDir)\\n' "$bin"; exit 0; }`,
    `"$bin/rabbitmq-server" > "$s/out" 2>&1 &`,
    `rctl wait "$s/pid" --timeout 120 > "$s/wait" 2>&1 || ${failWith('start', '"$s/out"')}`,
    `printf 'start\\tok\\n'`,
    `rctl import_definitions "$1" > "$s/import" 2>&1 || ${failWith('restore', '"$s/import"')}`,
    `printf 'restore\\tok\\n'`,
    // The import is asynchronous: counted until two readings a second apart agree.
    `count() { rctl eval ${quote(DEFINITION_COUNTS_EVAL)} 2> "$s/q" | tr -d '"'; }`,
    `last=; i=0; while :; do now=$(count) || ${failWith('tables', '"$s/q"')}; [ -n "$now" ] && [ "$now" = "$last" ] && break; i=$((i+1)); [ $i -gt 60 ] && break; last=$now; sleep 1; done`,
    `printf '%s\\n' "$now" | tr ' ' '\\n' | awk -F= 'NF == 2 && $2 ~ /^[0-9]+$/ { printf "rows\\t%s\\t%s\\n", $1, $2 }'`,
    `printf 'done\\n'`,
  ].join('\n')
}

export const RABBITMQ_SUFFIX = '.definitions.json'
/** Debian's place for RabbitMQ's own scripts (the schema's default for serverBinDir). */
export const DEFAULT_RABBITMQ_BIN = '/usr/lib/rabbitmq/bin'

const rabbitmqDefinitionsKind = (serverBinDir: string): StoredFileKind => ({
  component: 'rabbitmq',
  suffix: RABBITMQ_SUFFIX,
  countScript: countScript(serverBinDir),
})

/**
 * The backup, run on the backup node (RabbitMQ installed, the cluster's Erlang cookie in its user's
 * home): `rabbitmqctl export_definitions -` from each member in turn until one answers. The
 * definitions hold the users' password hashes: they go from the cluster to the backup node's 0600
 * file and never through ctl, its journal or its log.
 */
export function rabbitmqBackupScript(dir: string, serverBinDir: string, exportFrom: readonly {member: string; argv: string[]}[]): string {
  return storeBackupScript(rabbitmqDefinitionsKind(serverBinDir), dir, [
    ...exportFrom.map((m) => `[ -n "$src" ] || { ${m.argv.map(quote).join(' ')} export_definitions - > "$tmp" 2> "$tmp.err" && src=${quote(m.member)}; }`),
    `[ -n "$src" ] || ${failWith('take', '"$tmp.err"')}`,
    // Definitions, not an error page: a JSON object with the queues list.
    `grep -q '"queues"' "$tmp" || { printf 'take\\tfail\\t%s did not print definitions\\n' "$src"; exit 0; }`,
  ])
}

export function rabbitmqDrillScript(path: string, expectedSha256: string, serverBinDir: string): string {
  return storedFileDrillScript(rabbitmqDefinitionsKind(serverBinDir), path, expectedSha256)
}
