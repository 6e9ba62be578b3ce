import type {LabComponent} from '../types.js'
import {appComponent} from './app.js'
import {backupReplicaComponent} from './backup-replica.js'
import {cronComponent} from './cron.js'
import {dockerComponent} from './docker.js'
import {galeraComponent} from './galera.js'
import {hostsComponent} from './hosts.js'
import {offsiteComponent} from './offsite.js'
import {patroniComponent} from './patroni.js'
import {redisComponent} from './redis.js'
import {rabbitmqComponent} from './rabbitmq.js'
import {registryComponent} from './registry.js'
import {vaultComponent} from './vault.js'

/**
 * The lab's components, in start order (down runs in reverse). Each area adds its own line here.
 * The registry comes after the app: it pushes the images the app component built on h1; offsite
 * storage after the registry, whose lab CA signs its certificate.
 */
export const labComponents: LabComponent[] = [
  hostsComponent,
  dockerComponent,
  appComponent,
  registryComponent,
  offsiteComponent,
  galeraComponent,
  backupReplicaComponent,
  patroniComponent,
  redisComponent,
  rabbitmqComponent,
  vaultComponent,
  cronComponent,
]
