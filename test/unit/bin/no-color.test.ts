import {spawnSync} from 'node:child_process'
import {describe, expect, it} from 'vitest'

// NO_COLOR and --no-color: no ANSI escapes in ctl's output, even with FORCE_COLOR set around it.
const bin = new URL('../../../bin/run.js', import.meta.url).pathname
const run = (args: string[], env: Record<string, string> = {}) => spawnSync(bin, args, {env: {...process.env, ...env}, encoding: 'utf8'})
const ESC = '\u001b['

describe('colour', () => {
  it('--no-color anywhere before -- turns colour off, as NO_COLOR does', () => {
    expect(run(['runbook', '--help'], {FORCE_COLOR: '1'}).stdout).toContain(ESC)
    const off = run(['runbook', '--help', '--no-color'], {FORCE_COLOR: '1'})
    expect(off.status).toBe(0)
    expect(off.stdout).toContain('USAGE')
    expect(off.stdout).not.toContain(ESC)
    expect(run(['--no-color', 'check', 'list']).status).toBe(0)
    const env = {...process.env} as Record<string, string>
    delete env.FORCE_COLOR
    expect(spawnSync(bin, ['runbook', '--help'], {env: {...env, NO_COLOR: '1'}, encoding: 'utf8'}).stdout).not.toContain(ESC)
  })

  it('after -- it is an argument like any other', () => {
    const passed = run(['inventory', 'validate', '--', '--no-color'])
    expect(passed.status).toBe(2)
    expect(passed.stderr).toContain('"--no-color" is not an environment name')
  })
})
