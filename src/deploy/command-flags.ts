import {Args, Flags} from '@oclif/core'
import {envArg} from '../lib/command.js'

/** Arguments and flags shared by deploy, reload and rollback. */

export const envServiceArgs = {
  env: envArg,
  service: Args.string({description: 'Service name from the inventory', required: true}),
}

export const messageFlag = Flags.string({char: 'm', description: 'Why: written into the lock and the audit log', default: ''})
