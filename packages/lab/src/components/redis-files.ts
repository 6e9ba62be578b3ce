import {renderDaemonScript} from '../daemon-script.js'
import type {LabHost} from '../types.js'

/**
 * Files of the lab's Redis with Sentinel (seed 002): one redis-server and one redis-sentinel per lab
 * host, h1 the first master, both password protected with a lab-generated password. Redis and
 * Sentinel rewrite their own config files (a failover moves `replicaof`, Sentinel records what it
 * learnt), so `lab up` writes them only when absent. Pure.
 */

export const REDIS_PASSWORD_FILE = '.lab/redis-password'
/** Sentinel's name for the monitored master (inventories/lab.yml: databases.redis.masterName). */
export const REDIS_MASTER_NAME = 'ctl-lab'
export const REDIS_PORT = 6379
export const SENTINEL_PORT = 26379

export function redisPaths(host: LabHost) {
  const base = `${host.stateDir}/redis`
  const run = `${host.runDir}/redis`
  return {
    base,
    run,
    data: `${base}/data`,
    conf: `${base}/redis.conf`,
    /** The control script inventories/lab.yml names (redis-recover starts members with it). */
    script: `${base}/redis-ctl`,
    sentinelConf: `${base}/sentinel.conf`,
    log: `${base}/redis.log`,
    sentinelLog: `${base}/sentinel.log`,
    pid: `${run}/redis.pid`,
    sentinelPid: `${run}/sentinel.pid`,
  }
}

/** A config value in double quotes (the lab's values are hex, quoted all the same). */
const q = (value: string) => `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`

/** redis-server: AOF on (a restart keeps every write of the last second), a replica of `master` unless it is the master. */
export function redisConf(host: LabHost, password: string, master: LabHost): string {
  const p = redisPaths(host)
  return [
    '# Written by `ctl lab up` (packages/lab/src/components/redis-files.ts); Redis rewrites it (CONFIG REWRITE).',
    `bind ${host.address}`,
    `port ${REDIS_PORT}`,
    'protected-mode no',
    'daemonize no',
    `pidfile ${q(p.pid)}`,
    `logfile ${q(p.log)}`,
    `dir ${q(p.data)}`,
    'appendonly yes',
    'appendfsync everysec',
    'save 60 1',
    `requirepass ${q(password)}`,
    `masterauth ${q(password)}`,
    `replica-announce-ip ${host.address}`,
    ...(host.name === master.name ? [] : [`replicaof ${master.address} ${REDIS_PORT}`]),
    '',
  ].join('\n')
}

/** redis-sentinel: quorum 2 of 3, a master down after 2 s, password protected itself too. */
export function sentinelConf(host: LabHost, password: string, master: LabHost): string {
  const p = redisPaths(host)
  return [
    '# Written by `ctl lab up` (packages/lab/src/components/redis-files.ts); Sentinel rewrites it.',
    `bind ${host.address}`,
    `port ${SENTINEL_PORT}`,
    'daemonize no',
    `pidfile ${q(p.sentinelPid)}`,
    `logfile ${q(p.sentinelLog)}`,
    `dir ${q(p.base)}`,
    `sentinel announce-ip ${host.address}`,
    `sentinel monitor ${REDIS_MASTER_NAME} ${master.address} ${REDIS_PORT} 2`,
    `sentinel auth-pass ${REDIS_MASTER_NAME} ${q(password)}`,
    `sentinel down-after-milliseconds ${REDIS_MASTER_NAME} 2000`,
    `sentinel failover-timeout ${REDIS_MASTER_NAME} 10000`,
    `sentinel parallel-syncs ${REDIS_MASTER_NAME} 1`,
    `requirepass ${q(password)}`,
    `sentinel sentinel-pass ${q(password)}`,
    '',
  ].join('\n')
}

/** `redis-ctl start|stop|kill|status` for the host's redis-server (not its sentinel), as inventories/lab.yml names it. */
export function redisControlScript(host: LabHost): string {
  const p = redisPaths(host)
  return renderDaemonScript({
    what: 'redis-server',
    // The pid file the config names too: redis-server writes the same pid into it.
    pidFile: p.pid,
    logFile: `${p.log}.out`,
    processWord: 'redis-server',
    dirs: [
      [p.data, 'root'],
      [p.run, 'root'],
    ],
    argv: ['redis-server', p.conf],
    stopWaitSeconds: 20,
  })
}
