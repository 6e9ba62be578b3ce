import {CtlError, ExitCode} from './errors.js'

/**
 * The one way ctl asks a question. With `--yes` confirmations pass without asking; with no terminal
 * and no `--yes`, anything that needs an answer is refused before it changes anything.
 */

// @inquirer/prompts loads when a question is asked, not at start-up (bench/startup.sh).
const inquirer = () => import('@inquirer/prompts')

export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY) && process.env.CTL_NONINTERACTIVE !== '1'
}

export interface ConfirmOptions {
  /** The question, naming what will change. */
  message: string
  /** `--yes` was given. */
  yes?: boolean
  /** Default answer on Enter; destructive questions default to no. */
  defaultAnswer?: boolean
}

/** Asks to go ahead. Returns false when the operator says no; throws when nobody can answer. */
export async function confirmAction({message, yes, defaultAnswer = false}: ConfirmOptions): Promise<boolean> {
  if (yes) return true
  if (!isInteractive()) {
    throw new CtlError(`Refusing without confirmation: ${message}`, {
      exitCode: ExitCode.cannotRun,
      code: 'prompt.no-terminal',
      hint: 'Run it in a terminal to answer, or pass --yes to confirm in a script.',
    })
  }
  const {confirm} = await inquirer()
  return confirm({message, default: defaultAnswer})
}

/** Like confirmAction, but a "no" stops the command with a clear message. */
export async function requireConfirmation(options: ConfirmOptions): Promise<void> {
  if (!(await confirmAction(options))) {
    throw new CtlError('Stopped: not confirmed. Nothing was changed.', {exitCode: ExitCode.cannotRun, code: 'prompt.declined'})
  }
}

export interface Choice<T> {
  name: string
  value: T
  description?: string
}

/** Asks the operator to pick one of `choices`; without a terminal, `scriptFlag` names how to choose. */
export async function chooseOne<T>(message: string, choices: Choice<T>[], scriptFlag: string): Promise<T> {
  if (choices.length === 0) throw new CtlError(`Nothing to choose from: ${message}`, {exitCode: ExitCode.cannotRun})
  if (!isInteractive()) {
    throw new CtlError(`A choice is needed: ${message}`, {
      exitCode: ExitCode.cannotRun,
      code: 'prompt.no-terminal',
      hint: `Pass ${scriptFlag} to choose in a script.`,
    })
  }
  const {select} = await inquirer()
  return select({message, choices})
}

/** Asks for a secret with hidden input. */
export async function askSecret(message: string): Promise<string> {
  if (!isInteractive()) {
    throw new CtlError(`A secret is needed: ${message}`, {exitCode: ExitCode.cannotRun, code: 'prompt.no-terminal'})
  }
  const {password} = await inquirer()
  return password({message, mask: false})
}
