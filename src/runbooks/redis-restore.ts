import {setTimeout as sleep} from 'node:timers/promises'
import {backupStamp} from '../galera/backup.js'
import {listRestorePointsCommand} from '../backups/restore-points.js'
import {findNode} from '../inventory/load.js'
import {CtlError, ExitCode} from '../lib/errors.js'
import {lastLines} from '../lib/output.js'
import {quote, renderCommand} from '../lib/shell.js'
import {redisCliCommand, redisCluster} from '../redis/access.js'
import {judgeRedis, sentinelView} from '../redis/judge.js'
import {
  asidePath,
  copyStagedScript,
  parseKeyspace,
  parseRedisFiles,
  receiveStagedScript,
  stagedPath,
  swapFilesScript,
  type RedisFiles,
} from '../redis/restore.js'
import {stopMemberCommand} from './process-control.js'
import {factsReport, readFacts, redisCli, startAndWait, startCommand, stdinOpts} from './redis-common.js'
import {checkedBackup, storedLocation} from './stored-backup.js'
import type {PlannedCommand, Runbook, StepContext} from './types.js'

export interface RedisRestoreOptions {
  /** The backup's path (as `ctl backup list` shows it); default the newest complete one. */
  path?: string
}

export interface RedisRestoreState {
  requested?: string
  backupNode?: string
  path?: string
  sha256?: string
  sizeBytes?: number
  takenAt?: string
  recorded?: Record<string, number>
  master?: string
  replicas?: string[]
  files?: RedisFiles
  stamp?: string
  keys?: Record<string, number>
  verified?: string[]
}

type Ctx = StepContext<RedisRestoreState>

/** Through ctl (base64 on stdin) when the backup is on another node than the master: bounded, ctl holds it in memory. */
const MAX_THROUGH_CTL_BYTES = 256 * 1024 ** 2
const SETTLE_TIMEOUT_MS = 180_000

const location = (loaded: Ctx['loaded']) => storedLocation(loaded, 'redis')

function controlOf(loaded: Ctx['loaded'], node: string) {
  const control = redisCluster(loaded).members.find((m) => m.node === node)?.control
  if (!control)
    throw new CtlError(`databases.redis member ${node} has no control: ctl cannot stop and start its redis-server for the restore`, {
      exitCode: ExitCode.cannotRun,
      code: 'redis.no-control',
      hint: 'Describe how to start and stop it (control: {kind: systemd, unit: redis-server}, or commands).',
    })
  return control
}

const stopArgv = (loaded: Ctx['loaded'], node: string) => stopMemberCommand(controlOf(loaded, node), findNode(loaded, node))

/** Stops a member's redis-server and waits until it no longer answers. */
async function stopAndWait(ctx: Ctx, node: string): Promise<void> {
  const r = await ctx.run(node, stopArgv(ctx.loaded, node), {timeoutMs: 120_000})
  if (r.code !== 0) throw new CtlError(`Stopping redis-server on ${node} failed: ${lastLines(r, 2, ' ')}`, {host: node, code: 'redis.stop-failed'})
  for (const started = Date.now(); ; await sleep(500)) {
    const ping = await ctx.run(node, redisCliCommand(ctx.loaded, node, 'server', ['PING']), stdinOpts(ctx)).catch(() => undefined)
    if (ping?.stdout.trim() !== 'PONG') return
    if (Date.now() - started > 60_000) throw new CtlError(`redis-server on ${node} still answers 60 s after its stop`, {host: node, code: 'redis.stop-timeout'})
  }
}

const keyspace = async (ctx: Ctx, node: string) => parseKeyspace(await redisCli(ctx, node, 'server', ['INFO', 'keyspace'], 'INFO keyspace'))
const sameCounts = (a: Record<string, number>, b: Record<string, number>) =>
  [...new Set([...Object.keys(a), ...Object.keys(b)])].every((db) => (a[db] ?? 0) === (b[db] ?? 0))
const describeCounts = (c: Record<string, number>) =>
  Object.entries(c)
    .map(([db, n]) => `${db} ${n}`)
    .join(', ') || 'no keys'

function stagePlan(state: RedisRestoreState): PlannedCommand[] {
  const staged = stagedPath(state.files!, state.stamp!)
  if (state.backupNode === state.master) return [{node: state.master!, command: copyStagedScript(state.path!, staged, state.sha256!)}]
  return [
    {node: state.backupNode!, command: `base64 -w0 < ${quote(state.path!)}`, note: 'read through ctl (not kept in its journal)'},
    {node: state.master!, command: receiveStagedScript(staged, state.sha256!)},
  ]
}

export const redisRestore: Runbook<RedisRestoreState, RedisRestoreOptions> = {
  name: 'redis-restore',
  summary: "Replace Redis's data with a redis-backup snapshot: every member stopped, the master started from it, the replicas resynced.",
  description: [
    'Chooses the snapshot (--path, else the newest complete one) in databases.redis.backupDir and checks it against its record; reads the',
    "master the sentinels agree on and where its files are (CONFIG GET). Stages the snapshot beside the master's files (sha256 checked),",
    'stops the replicas, then the master (DATA RISK: every write since the snapshot is lost; the sentinels cannot fail over with no replica',
    "up), moves the master's RDB and AOF aside (kept in ctl-before-restore-<time>), installs the snapshot as its RDB and its AOF's base,",
    'starts it and checks the keys per database against the record, then starts the replicas, which resync from it in full.',
  ].join('\n'),
  needs: 'databases.redis (backupDir, backupNode, members with control, password); redis-cli on the members; Redis 7 (multi-part AOF)',
  setup({loaded, options}) {
    location(loaded)
    return options.path ? {requested: options.path} : {}
  },
  steps: [
    {
      id: 'facts',
      title: 'Choose and check the snapshot, read the cluster',
      risk: 'read',
      description: "The snapshots on the backup node with their records, the chosen one's sha256; each member's role; the master's files.",
      plan: (state, loaded) => ({
        summary: `Check ${state.requested ?? 'the newest snapshot'} in ${location(loaded).dir} on ${location(loaded).nodes[0]}; read the members`,
        commands: [{node: location(loaded).nodes[0]!, command: renderCommand(listRestorePointsCommand([location(loaded)]))}],
      }),
      async gather(ctx) {
        const facts = await readFacts(ctx)
        ctx.report(factsReport(facts))
        const view = sentinelView(facts)
        const master = facts.find((f) => f.role === 'master' && view.master && f.address === view.master.address && f.port === view.master.port)
        if (!master)
          throw new CtlError('No running master that the sentinels agree on: a restore starts from a working cluster', {
            exitCode: ExitCode.cannotRun,
            code: 'redis.no-master',
            hint: `Bring the cluster back first: ctl runbook redis-recover ${ctx.loaded.env}`,
          })
        for (const m of redisCluster(ctx.loaded).members) controlOf(ctx.loaded, m.node)
        const {node, point, recorded} = await checkedBackup(ctx, 'redis', ctx.state.requested)
        if (node !== master.node && point.sizeBytes > MAX_THROUGH_CTL_BYTES)
          throw new CtlError(`${point.path} is ${point.sizeBytes} bytes: too large to carry from ${node} to ${master.node} through ctl`, {
            exitCode: ExitCode.cannotRun,
            code: 'redis.backup-too-large',
            hint: `Copy it to ${master.node} by hand (into databases.redis.backupDir there) and run with a backupNode of ${master.node}.`,
          })
        const files = parseRedisFiles(
          await redisCli(ctx, master.node, 'server', ['CONFIG', 'GET', 'dir', 'dbfilename', 'appenddirname', 'appendfilename'], 'CONFIG GET'),
        )
        if (!files)
          throw new CtlError(`Cannot tell where redis-server on ${master.node} keeps its files (CONFIG GET dir, dbfilename, appenddirname)`, {
            exitCode: ExitCode.cannotRun,
            host: master.node,
            code: 'redis.files-unknown',
            hint: 'redis-restore needs Redis 7 (multi-part AOF) and plain file names.',
          })
        Object.assign(ctx.state, {
          backupNode: node,
          path: point.path,
          sha256: point.checksum,
          sizeBytes: point.sizeBytes,
          takenAt: point.takenAt,
          recorded,
          master: master.node,
          replicas: facts.filter((f) => f.node !== master.node).map((f) => f.node),
          files,
          stamp: ctx.state.stamp ?? backupStamp(),
        })
        ctx.report([
          `${point.path} (taken ${point.takenAt}, ${point.sizeBytes} bytes): ${describeCounts(ctx.state.recorded!)}; into ${master.node} (${files.dir}), now ${describeCounts(await keyspace(ctx, master.node))}.`,
        ])
      },
    },
    {
      id: 'stage',
      title: "Stage the snapshot beside the master's files",
      risk: 'change',
      description: "A hidden copy in the master's data directory, its sha256 checked there (through ctl when the backup is on another node).",
      plan: (state) =>
        state.files ? {summary: `Stage ${state.path} on ${state.master}`, commands: stagePlan(state)} : {summary: 'After the facts', commands: []},
      async act(ctx) {
        const [first, second] = stagePlan(ctx.state)
        if (!second) {
          const r = await ctx.run(first!.node, {script: first!.command}, {timeoutMs: 600_000})
          if (r.code !== 0) throw new CtlError(`Staging failed on ${first!.node}: ${lastLines(r, 2, ' ')}`, {host: first!.node, code: 'redis.stage-failed'})
          return
        }
        const read = await ctx.run(first!.node, {script: first!.command}, {timeoutMs: 600_000, outputIsData: true})
        if (read.code !== 0)
          throw new CtlError(`Reading ${ctx.state.path} failed: ${lastLines(read.stderr, 2, ' ')}`, {host: first!.node, code: 'redis.stage-failed'})
        const r = await ctx.run(second.node, {script: second.command}, {timeoutMs: 600_000, stdin: read.stdout})
        if (r.code !== 0) throw new CtlError(`Staging failed on ${second.node}: ${lastLines(r, 2, ' ')}`, {host: second.node, code: 'redis.stage-failed'})
      },
    },
    {
      id: 'stop',
      title: 'Stop the replicas, then the master',
      risk: 'data-risk',
      description: 'control.stop of each replica, then of the master (no replica up: the sentinels cannot fail over meanwhile).',
      plan: (state, loaded) =>
        state.master
          ? {
              summary: `Stop ${[...state.replicas!, state.master].join(', then ')}`,
              commands: [...state.replicas!, state.master].map((node) => ({node, command: renderCommand(stopArgv(loaded, node))})),
            }
          : {summary: 'After the facts', commands: []},
      confirmation: (state) =>
        `Replace the Redis data with ${state.path} (taken ${state.takenAt})? Every write since then is lost; every redis-server stops meanwhile. The master's files stay in ${asidePath(state.files!, state.stamp!)} on ${state.master}.`,
      async act(ctx) {
        for (const node of [...ctx.state.replicas!, ctx.state.master!]) {
          ctx.progress(`${node}: stopping redis-server`)
          await stopAndWait(ctx, node)
        }
      },
    },
    {
      id: 'swap',
      title: "Move the master's files aside, install the snapshot",
      risk: 'change',
      description: 'Its RDB and AOF directory into ctl-before-restore-<time>; the snapshot as its RDB and as the base of a new AOF.',
      plan: (state) =>
        state.files
          ? {
              summary: `On ${state.master}: ${state.files.dir}`,
              commands: [
                {node: state.master!, command: swapFilesScript(state.files, stagedPath(state.files, state.stamp!), asidePath(state.files, state.stamp!))},
              ],
            }
          : {summary: 'After the facts', commands: []},
      async act(ctx) {
        const files = ctx.state.files!
        const r = await ctx.run(
          ctx.state.master!,
          {script: swapFilesScript(files, stagedPath(files, ctx.state.stamp!), asidePath(files, ctx.state.stamp!))},
          {timeoutMs: 600_000},
        )
        if (r.code !== 0)
          throw new CtlError(`Installing the snapshot failed on ${ctx.state.master}: ${lastLines(r, 2, ' ')}`, {
            host: ctx.state.master,
            code: 'redis.swap-failed',
            hint: `The master's own files are in ${asidePath(files, ctx.state.stamp!)}; fix the cause and run with --resume.`,
          })
      },
    },
    {
      id: 'start',
      title: 'Start the master from the snapshot, then the replicas',
      risk: 'change',
      description: 'control.start of the master, its keys per database against the record; then the replicas, which resync from it in full.',
      plan: (state, loaded) =>
        state.master
          ? {
              summary: `Start ${[state.master, ...state.replicas!].join(', then ')}`,
              commands: [state.master, ...state.replicas!].map((node) => ({node, command: renderCommand(startCommand({loaded}, node))})),
            }
          : {summary: 'After the facts', commands: []},
      async act(ctx) {
        await startAndWait(ctx, ctx.state.master!)
        const loadedKeys = await keyspace(ctx, ctx.state.master!)
        if (!sameCounts(loadedKeys, ctx.state.recorded!))
          throw new CtlError(`${ctx.state.master} started with ${describeCounts(loadedKeys)}, the snapshot holds ${describeCounts(ctx.state.recorded!)}`, {
            host: ctx.state.master,
            code: 'redis.restore-mismatch',
            hint: 'Its replicas are still stopped. Look at its log (did it load the AOF base?); the old files are aside.',
          })
        for (const node of ctx.state.replicas!) await startAndWait(ctx, node)
      },
      async verify(ctx) {
        const cluster = redisCluster(ctx.loaded)
        for (const started = Date.now(); ; await sleep(1000)) {
          const facts = await readFacts(ctx)
          const findings = judgeRedis(ctx.loaded.env, facts, cluster.maxLagBytes)
          const counts = await Promise.all(facts.map(async (f) => [f.node, await keyspace(ctx, f.node).catch(() => ({}))] as const))
          const master = Object.fromEntries(counts)[ctx.state.master!] ?? {}
          const problems = [
            ...findings.filter((f) => f.status !== 'pass').map((f) => `${f.target}: ${f.detail}`),
            ...counts.filter(([, c]) => !sameCounts(c, master)).map(([n, c]) => `${n} has ${describeCounts(c)}, the master ${describeCounts(master)}`),
          ]
          if (problems.length === 0) {
            ctx.state.keys = Object.fromEntries(counts.map(([n, c]) => [n, Object.values(c).reduce((a, b) => a + b, 0)]))
            ctx.state.verified = findings.map((f) => `${f.target}: ${f.detail}`)
            ctx.report([
              ...ctx.state.verified,
              `Keys: ${Object.entries(ctx.state.keys)
                .map(([n, k]) => `${n} ${k}`)
                .join(', ')}`,
            ])
            return
          }
          if (Date.now() - started > SETTLE_TIMEOUT_MS)
            throw new CtlError(`The replicas did not settle on the restored master: ${problems.join('; ')}`, {
              code: 'redis.not-settled',
              hint: `ctl check run ${ctx.loaded.env} redis; a full resync of a large dataset takes a while.`,
            })
          ctx.progress(problems[0]!)
        }
      },
    },
  ],
  summarize: (state) => ({
    path: state.path,
    takenAt: state.takenAt,
    master: state.master,
    aside: state.files && state.stamp ? asidePath(state.files, state.stamp) : undefined,
    recorded: state.recorded,
    keys: state.keys,
    verified: state.verified,
  }),
}
