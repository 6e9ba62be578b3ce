import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {CtlError, ExitCode} from '../../../src/lib/errors.js'
import {askSecret, chooseOne, confirmAction, isInteractive, requireConfirmation} from '../../../src/lib/prompt.js'

// Without a terminal nobody can answer: every question is refused (exit 2) before anything changes,
// unless --yes answered it. Vitest's stdin is not a TTY; CTL_NONINTERACTIVE=1 makes that explicit.

async function refusal(promise: Promise<unknown>): Promise<CtlError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(CtlError)
  return error as CtlError
}

describe('asking without a terminal', () => {
  beforeEach(() => {
    process.env.CTL_NONINTERACTIVE = '1'
  })
  afterEach(() => {
    delete process.env.CTL_NONINTERACTIVE
  })

  it('is not interactive when CTL_NONINTERACTIVE=1, even on a TTY', () => {
    expect(isInteractive()).toBe(false)
  })

  it('--yes confirms without asking', async () => {
    await expect(confirmAction({message: 'Drop the old datadir on db-1?', yes: true})).resolves.toBe(true)
    await expect(requireConfirmation({message: 'Drop the old datadir on db-1?', yes: true})).resolves.toBeUndefined()
  })

  it('a confirmation without --yes is refused with exit 2, naming the question and how to confirm in a script', async () => {
    const error = await refusal(confirmAction({message: 'Drop the old datadir on db-1?'}))
    expect(error.exitCode).toBe(ExitCode.cannotRun)
    expect(error.code).toBe('prompt.no-terminal')
    expect(error.message).toBe('Refusing without confirmation: Drop the old datadir on db-1?')
    expect(error.hint).toContain('--yes')
    expect((await refusal(requireConfirmation({message: 'Go?'}))).exitCode).toBe(ExitCode.cannotRun)
  })

  it('a choice names the flag that makes it in a script', async () => {
    const error = await refusal(chooseOne('Which replica becomes leader?', [{name: 'pg-2', value: 'pg-2'}], '--candidate <member>'))
    expect(error.exitCode).toBe(ExitCode.cannotRun)
    expect(error.hint).toBe('Pass --candidate <member> to choose in a script.')
  })

  it('an empty choice is refused even before asking', async () => {
    const error = await refusal(chooseOne('Which replica?', [], '--candidate'))
    expect(error.message).toBe('Nothing to choose from: Which replica?')
  })

  it('a secret is never read from a non-terminal', async () => {
    const error = await refusal(askSecret('Unseal key 1'))
    expect(error.exitCode).toBe(ExitCode.cannotRun)
    expect(error.code).toBe('prompt.no-terminal')
  })
})
