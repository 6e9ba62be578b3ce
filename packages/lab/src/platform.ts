import {CtlError, ExitCode} from 'ctl/lib/errors.js'

/** The lab needs Linux network namespaces and root; anything else is refused up front. */
export function labUnsupportedReason(platform: string = process.platform, uid: number | undefined = process.getuid?.()): string | undefined {
  if (platform !== 'linux') return `the lab needs Linux (network namespaces), this is ${platform}`
  if (uid !== 0) return 'the lab needs root (it creates network namespaces, links and daemons)'
  return undefined
}

export function requireLabPlatform(): void {
  const reason = labUnsupportedReason()
  if (reason) {
    throw new CtlError(`Cannot run the lab: ${reason}`, {
      exitCode: ExitCode.cannotRun,
      code: 'lab.platform',
      hint: 'Run `ctl lab` as root on a Linux machine (e.g. sudo npx ctl lab up, or a Linux VM).',
    })
  }
}
