import {readFileSync} from 'node:fs'
import {describe, expect, it} from 'vitest'

// Every command's --help shows at least two examples (oclif renders them from the manifest).
const manifest = JSON.parse(readFileSync(new URL('../../../oclif.manifest.json', import.meta.url), 'utf8')) as {
  commands: Record<string, {examples?: unknown[]}>
}

describe('command help', () => {
  it('every command has at least two examples', () => {
    const few = Object.entries(manifest.commands)
      .filter(([, c]) => (c.examples ?? []).length < 2)
      .map(([id]) => id)
    expect(Object.keys(manifest.commands).length).toBeGreaterThan(30)
    expect(few).toEqual([])
  })
})
