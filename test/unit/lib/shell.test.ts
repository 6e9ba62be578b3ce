import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {andThen, quote, shellCommand} from '../../../src/lib/shell.js'

describe('quote', () => {
  it('leaves plain words readable', () => {
    expect(quote('docker')).toBe('docker')
    expect(quote('/var/lib/mysql')).toBe('/var/lib/mysql')
    expect(quote('type=service')).toBe('type=service')
  })

  it('single-quotes anything else and escapes single quotes', () => {
    expect(quote('a b')).toBe("'a b'")
    expect(quote('')).toBe("''")
    expect(quote("it's")).toBe(`'it'\\''s'`)
    expect(shellCommand(['echo', 'a;b', '$(id)'])).toBe(`echo 'a;b' '$(id)'`)
  })

  it('keeps hostile inventory values as data when a real shell runs them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctl-quote-'))
    const marker = join(dir, 'pwned')
    const hostile = [
      `x; touch ${marker}`,
      `$(touch ${marker})`,
      `\`touch ${marker}\``,
      `'; touch ${marker}; '`,
      `"; touch ${marker}; "`,
      `a\ntouch ${marker}`,
      `&& touch ${marker} #`,
      `| touch ${marker}`,
    ]
    for (const value of hostile) {
      const out = execFileSync('sh', ['-c', shellCommand(['printf', '%s', value])]).toString()
      expect(out).toBe(value)
      // The same value nested once more, as the SSH pool does with `sh -c <quoted>`.
      const nested = execFileSync('sh', ['-c', shellCommand(['sh', '-c', shellCommand(['printf', '%s', value])])]).toString()
      expect(nested).toBe(value)
    }
    expect(existsSync(marker)).toBe(false)
  })

  it('chains commands so the first failure stops the rest', () => {
    expect(andThen(['mkdir', '/x y'], {script: 'echo ok'}).script).toBe(`mkdir '/x y' && echo ok`)
  })
})
