import {Args, Flags} from '@oclif/core'

/** Arguments and flags shared by deploy, reload and rollback. */
export const envArg = Args.string({description: 'Environment name or inventory file', required: true})

export const envServiceArgs = {
  env: envArg,
  service: Args.string({description: 'Service name from the inventory', required: true}),
}

export const messageFlag = Flags.string({char: 'm', description: 'Why: written into the lock and the audit log', default: ''})
