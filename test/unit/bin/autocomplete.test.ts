import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

// Shell completion (oclif's autocomplete plugin): `ctl autocomplete -r` writes the completion
// functions from ctl's own commands and flags, in the user's cache directory.
const bin = new URL('../../../bin/run.js', import.meta.url).pathname

describe('ctl autocomplete', () => {
  it("completes ctl's commands and their flags in bash and zsh", () => {
    const cache = mkdtempSync(join(tmpdir(), 'ctl-ac-'))
    const env = {...process.env, XDG_CACHE_HOME: cache}
    execFileSync(bin, ['autocomplete', '--refresh-cache'], {env, encoding: 'utf8'})
    const bash = readFileSync(join(cache, 'ctl', 'autocomplete', 'functions', 'bash', 'ctl.bash'), 'utf8')
    expect(bash).toMatch(/runbook:redis-restore\s[^\n]*--path/)
    expect(bash).toContain('doctor')
    expect(() => execFileSync('bash', ['-n', join(cache, 'ctl', 'autocomplete', 'functions', 'bash', 'ctl.bash')])).not.toThrow()
    expect(readFileSync(join(cache, 'ctl', 'autocomplete', 'functions', 'zsh', '_ctl'), 'utf8')).toContain('redis-restore')
    // The setup line the user adds to ~/.bashrc.
    expect(execFileSync(bin, ['autocomplete', 'script', 'bash'], {env, encoding: 'utf8'})).toContain(join(cache, 'ctl', 'autocomplete', 'bash_setup'))
  })
})
