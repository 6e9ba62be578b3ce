import type {LabComponent} from '../types.js'
import {appComponent} from './app.js'
import {dockerComponent} from './docker.js'
import {galeraComponent} from './galera.js'
import {hostsComponent} from './hosts.js'
import {patroniComponent} from './patroni.js'
import {vaultComponent} from './vault.js'

/**
 * The lab's components, in start order (down runs in reverse). Each area adds its own line here.
 */
export const labComponents: LabComponent[] = [hostsComponent, dockerComponent, appComponent, galeraComponent, patroniComponent, vaultComponent]
