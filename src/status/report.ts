import type {CheckResult} from '../checks/types.js'
import type {HistoryLine} from '../history/shared.js'

/** What `ctl status <env>` shows (and prints with --json): problems first, then the platform by part. */

type ProblemSeverity = 'fail' | 'error' | 'warn'

export interface StatusProblem {
  severity: ProblemSeverity
  /** The check (or `lock`, `swarm-read`) that saw it. */
  area: string
  target: string
  detail: string
  hint?: string
}

export interface StatusNode {
  name: string
  address: string
  /** The swarm's view; absent for nodes outside the swarm (a backup host) or when no manager answered. */
  role?: string
  state?: string
  availability?: string
  leader: boolean
  /** Answered over SSH in this run. */
  reachable: boolean
}

interface StatusRelease {
  id: number
  kind: string
  image: string
  who: string
  at: string
  outcome: string
}

export interface StatusService {
  name: string
  /** `<stack>_<name>` for Swarm services. */
  swarmName?: string
  image?: string
  /** The image's tag (or digest), what operators call the version. */
  version?: string
  running?: number
  desired?: number
  /** Swarm's update state: updating, paused, completed, rollback_*. */
  updateState?: string
  lastRelease?: StatusRelease
  /** The service-health check's verdict and detail. */
  health: CheckResult['status'] | 'unknown'
  detail: string
}

export type ClusterState = 'ok' | 'degraded' | 'down' | 'unknown'

export interface StatusCluster {
  name: string
  state: ClusterState
  /** Leader, primary, master or active node, when the cluster has one and it is known. */
  leader?: string
  summary: string
}

export interface StatusLock {
  kind: 'deploy' | 'runbook'
  /** The lock's name without the host suffix of a lock spread over a cluster. */
  name: string
  /** Hosts holding it (a runbook's run lock is held on a majority of its cluster). */
  nodes: string[]
  holder: string
  what?: string
  since?: string
  heartbeatAgeSeconds?: number
  stale: boolean
}

export interface StatusBackup {
  component: string
  status: CheckResult['status']
  detail: string
}

export interface StatusReport {
  env: string
  at: string
  durationMs: number
  /** 0 no failure, 1 something failed, 2 nothing failed but some part could not be read. */
  exitCode: number
  problems: StatusProblem[]
  nodes: StatusNode[]
  services: StatusService[]
  clusters: StatusCluster[]
  locks: StatusLock[]
  backups: StatusBackup[]
  /** The newest lines of the shared history (what changed recently, by whom). */
  recent: HistoryLine[]
}
