import {readFileSync, writeFileSync} from 'node:fs'
import {expect} from 'vitest'
import {json, runCtl} from '../../support/cli.js'

/** Flips one byte in the middle of `file`, runs `work`, and puts the file back however it ends. */
export async function withFlippedByte(file: string, work: () => Promise<void>): Promise<void> {
  const original = readFileSync(file)
  const damaged = Buffer.from(original)
  damaged[Math.floor(damaged.length / 2)] ^= 0xff
  writeFileSync(file, damaged)
  try {
    await work()
  } finally {
    writeFileSync(file, original)
  }
}

/** `ctl backup verify lab --path <path>` fails, its drill at the integrity stage. */
export async function expectDrillIntegrityFails(path: string): Promise<void> {
  const drill = await runCtl(['backup', 'verify', 'lab', '--path', path, '--json'])
  expect(drill.exitCode).toBe(1)
  expect(json(drill).results[0].record.problems.join(' ')).toMatch(/^integrity failed/)
}
