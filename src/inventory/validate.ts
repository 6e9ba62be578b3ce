import {existsSync, readFileSync} from 'node:fs'
import {CtlError, ExitCode} from '../lib/errors.js'
import type {CommandLog, LightInput} from '../lib/light.js'
import {envNameOfFile, formatProblems, parseInventory, resolveInventoryPath, type InventoryProblem} from './load.js'

export interface ValidateResult {
  file: string
  valid: boolean
  nodes?: number
  problems: InventoryProblem[]
  /** Valid but risky settings (exit code stays 0). */
  warnings: InventoryProblem[]
}

/**
 * `ctl inventory validate <env>`: a light command (src/lib/light.ts), so no oclif here; problems on
 * stderr and exit code 1 when invalid, warnings on stderr with exit code 0.
 */
export async function validateInventory({args}: LightInput, out: CommandLog): Promise<ValidateResult> {
  const file = resolveInventoryPath(args.env)
  if (!existsSync(file)) throw new CtlError(`No inventory at ${file}`, {exitCode: ExitCode.cannotRun, hint: 'Pass an env name from inventories/ or a path.'})
  envNameOfFile(file)
  const {inventory, problems, warnings} = parseInventory(readFileSync(file, 'utf8'), file)
  if (!inventory) {
    out.logToStderr(formatProblems(problems))
    process.exitCode = ExitCode.failed
    return {file, valid: false, problems, warnings}
  }
  if (warnings.length > 0) out.logToStderr(formatProblems(warnings, 'warning: '))
  out.log(
    `${file}: valid (${inventory.nodes.length} nodes, ${inventory.stacks.length} stacks, ${inventory.services.length} services${warnings.length > 0 ? `, ${warnings.length} warning(s)` : ''})`,
  )
  return {file, valid: true, nodes: inventory.nodes.length, problems: [], warnings}
}
