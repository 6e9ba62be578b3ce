import {readFileSync} from 'node:fs'
import {CtlError, ExitCode} from '../lib/errors.js'
import {resolveInventoryRelative, type LoadedInventory} from '../inventory/load.js'
import {mergeCompose, parseComposeText} from './compose.js'
import type {StackInput} from './plan.js'

/** Reads the inventory's stack files from the operator's checkout (they are uploaded as they are). */
export function readStacks(loaded: LoadedInventory): StackInput[] {
  return loaded.inventory.stacks.map((stack) => {
    const files = stack.files.map((f) => resolveInventoryRelative(loaded, f))
    const docs = files.map((file) => {
      let text: string
      try {
        text = readFileSync(file, 'utf8')
      } catch (error) {
        throw new CtlError(`Cannot read stack file ${file} of stack "${stack.name}": ${(error as Error).message}`, {
          exitCode: ExitCode.cannotRun,
          code: 'deploy.stack-file-missing',
          hint: `Stack files are relative to ${loaded.file}.`,
        })
      }
      return parseComposeText(text, file)
    })
    return {name: stack.name, files, merged: mergeCompose(docs), version: String(docs[0]?.version ?? '3.8')}
  })
}
