import {runLocal} from 'ctl/lib/local.js'
import {CtlError} from 'ctl/lib/errors.js'
import {lastLines} from 'ctl/lib/output.js'

/** Debian packages the lab's components declare: only the missing ones are installed. */

/** Parses `dpkg-query -W -f '${Package} ${db:Status-Status}\n'` output into the installed names. */
export function parseInstalled(output: string): Set<string> {
  const installed = new Set<string>()
  for (const line of output.split('\n')) {
    const [name, status] = line.trim().split(/\s+/)
    if (name && status === 'installed') installed.add(name.replace(/:.*$/, ''))
  }
  return installed
}

export function missingPackages(wanted: readonly string[], installed: ReadonlySet<string>): string[] {
  return [...new Set(wanted)].filter((name) => !installed.has(name)).sort()
}

export function dpkgQueryCommand(names: readonly string[]): string[] {
  return ['dpkg-query', '-W', '-f', '${Package} ${db:Status-Status}\\n', ...names]
}

export function aptInstallCommand(names: readonly string[]): string[] {
  return ['apt-get', 'install', '-y', '-q', '--no-install-recommends', ...names]
}

export async function findMissingPackages(wanted: readonly string[]): Promise<string[]> {
  if (wanted.length === 0) return []
  // dpkg-query exits 1 when some names are unknown to dpkg; those are simply missing.
  const result = await runLocal(dpkgQueryCommand([...new Set(wanted)]), {timeoutMs: 30_000, check: false})
  return missingPackages(wanted, parseInstalled(result.stdout))
}

export async function installPackages(names: readonly string[]): Promise<void> {
  if (names.length === 0) return
  const result = await runLocal(aptInstallCommand(names), {timeoutMs: 20 * 60_000, check: false, env: {DEBIAN_FRONTEND: 'noninteractive'}})
  if (result.code !== 0) {
    throw new CtlError(`apt-get could not install ${names.join(' ')}`, {
      step: 'packages',
      hint: `Run \`apt-get update\` and try again; apt said: ${lastLines(result, 3, ' / ')}`,
    })
  }
}
