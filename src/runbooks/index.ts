import {CtlError, ExitCode} from '../lib/errors.js'
import {galeraRecover} from './galera-recover.js'
import {mariadbBackup} from './mariadb-backup.js'
import {mariadbRestore} from './mariadb-restore.js'
import {mariadbPitr} from './mariadb-pitr.js'
import {mariadbBinlogArchive} from './mariadb-binlog-archive.js'
import {redisFailover} from './redis-failover.js'
import {redisRecover} from './redis-recover.js'
import {etcdMemberReplace} from './etcd-member-replace.js'
import {etcdSnapshot} from './etcd-snapshot.js'
import {etcdRestore} from './etcd-restore.js'
import {rabbitmqRecover} from './rabbitmq-recover.js'
import {rabbitmqBackup} from './rabbitmq-backup.js'
import {rabbitmqRestore} from './rabbitmq-restore.js'
import {redisBackup} from './redis-backup.js'
import {redisRestore} from './redis-restore.js'
import {patroniFailover} from './patroni-failover.js'
import {patroniSwitchover} from './patroni-switchover.js'
import {pgBackup} from './pg-backup.js'
import {pgRestore} from './pg-restore.js'
import {pgPitr} from './pg-pitr.js'
import {pgbackrestBackup} from './pgbackrest-backup.js'
import {pgbackrestSetup} from './pgbackrest-setup.js'
import type {AnyRunbook} from './types.js'

/**
 * The runbook registry: what `ctl runbook list` and `ctl runbook show` read. Each runbook is also
 * its own command, `src/commands/runbook/<name>.ts`. Add one line per runbook here.
 */
export const runbooks: AnyRunbook[] = [
  galeraRecover,
  mariadbBackup,
  mariadbRestore,
  patroniSwitchover,
  patroniFailover,
  pgBackup,
  pgRestore,
  pgbackrestSetup,
  pgbackrestBackup,
  pgPitr,
  mariadbPitr,
  mariadbBinlogArchive,
  redisFailover,
  redisRecover,
  redisBackup,
  redisRestore,
  etcdMemberReplace,
  etcdSnapshot,
  etcdRestore,
  rabbitmqRecover,
  rabbitmqBackup,
  rabbitmqRestore,
]

export function findRunbook(name: string): AnyRunbook {
  const runbook = runbooks.find((r) => r.name === name)
  if (!runbook) {
    throw new CtlError(`No runbook named "${name}"`, {
      exitCode: ExitCode.cannotRun,
      code: 'runbook.unknown',
      hint: `Known runbooks: ${runbooks.map((r) => r.name).join(', ') || '(none)'}; see ctl runbook list`,
    })
  }
  return runbook
}
