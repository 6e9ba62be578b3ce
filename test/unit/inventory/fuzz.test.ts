import {describe, expect, it} from 'vitest'
import {envNameOfFile, formatField, formatProblems, parseInventory, type ParsedInventory} from '../../../src/inventory/load.js'
import {isSafeName} from '../../../src/inventory/schema/common.js'
import type {Inventory} from '../../../src/inventory/schema/index.js'
import {HOSTILE_STRINGS, keyPosition, mutate, prng, seedInventories, seedOf, stringsIn} from './fuzz-helpers.js'

/**
 * Mutates the shipped inventories thousands of times (seeded: set CTL_FUZZ_SEED to replay) and
 * holds the loader to its promise: never a stack trace, every problem at file:line:column, and a
 * mutation that still loads yields only values safe in paths and shells.
 */
const SEED = Number(process.env.CTL_FUZZ_SEED ?? 20261201)
const MUTATIONS_PER_FILE = Number(process.env.CTL_FUZZ_COUNT ?? 400)

/** Paths whose strings are the operator's own argv words or free text: quoted on use, so any character is allowed. */
const FREE_TEXT = /^(description|.*\.control\.(start|stop|kill|status)\[\d+\]|services\[\d+\]\.reloadCommand\[\d+\])$/

/** What a loaded inventory must satisfy, whatever the file said. */
function assertSafe(inventory: Inventory, where: string): void {
  for (const {path, value} of stringsIn(inventory)) {
    if (!FREE_TEXT.test(path)) expect(/\p{Cc}/u.test(value), `${where}: control character in ${path}`).toBe(false)
  }
  const numbers = JSON.stringify(inventory, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? `NONFINITE ${v}` : v))
  expect(numbers, `${where}: non-finite number`).not.toContain('NONFINITE')
  const db = inventory.databases
  const names = [
    inventory.name,
    ...inventory.nodes.map((n) => n.name),
    ...inventory.stacks.map((s) => s.name),
    ...inventory.services.flatMap((s) => [s.name, s.stack ?? 'x', ...(s.hosts ?? [])]),
    ...(db.galera ? [db.galera.name, db.galera.verifyDatabase, ...db.galera.members.map((m) => m.node)] : []),
    ...(db.patroni ? [db.patroni.scope, db.patroni.database, ...db.patroni.members.flatMap((m) => [m.node, m.name])] : []),
    ...(db.etcd?.members.flatMap((m) => [m.node, m.name]) ?? []),
  ]
  for (const name of names) expect(isSafeName(name), `${where}: unsafe name ${JSON.stringify(name)}`).toBe(true)
  const remotePaths = [
    inventory.deployLock.dir,
    inventory.limits.diskPath,
    ...inventory.nodes.flatMap((n) => (n.docker?.socket ? [n.docker.socket] : [])),
    ...(db.galera ? [db.galera.backupDir, ...db.galera.members.flatMap((m) => [m.datadir, m.socket, m.defaultsFile ?? '/'])] : []),
    ...(db.patroni ? [db.patroni.backupDir] : []),
  ]
  for (const path of remotePaths) {
    expect(path.startsWith('/') && !path.split('/').includes('..'), `${where}: unsafe remote path ${JSON.stringify(path)}`).toBe(true)
  }
  for (const node of inventory.nodes) expect(node.address, `${where}: address`).toMatch(/^[A-Za-z0-9:[][A-Za-z0-9:.[\]-]*$/)
}

function assertPositioned(result: ParsedInventory, file: string, text: string, where: string): void {
  const lineCount = text.split('\n').length
  for (const p of [...result.problems, ...result.warnings]) {
    expect(p.file, where).toBe(file)
    expect(p.line >= 1 && p.line <= lineCount + 1, `${where}: line ${p.line} of ${lineCount}`).toBe(true)
    expect(p.column >= 1, `${where}: column ${p.column}`).toBe(true)
    expect(p.field.length > 0 && p.message.length > 0, where).toBe(true)
    expect(p.message, where).not.toMatch(/\n\s+at |\[object Object\]|undefined/)
  }
  for (const line of formatProblems(result.problems).split('\n').filter(Boolean)) expect(line.startsWith(`${file}:`), where).toBe(true)
}

describe('inventory fuzz', () => {
  const seeds = seedInventories()

  it.each(seeds.map((s, i) => [s.file.split('/').slice(-2).join('/'), i] as const))('mutations of %s', {timeout: 60_000}, (_name, index) => {
    const {file, text} = seeds[index]!
    const seed = seedOf(text)
    const random = prng(SEED + index)
    const tally = {invalid: 0, valid: 0, unknownKeysReported: 0}
    for (let n = 0; n < MUTATIONS_PER_FILE; n++) {
      const mutation = mutate(seed, random)
      const where = `seed ${SEED + index}, mutation ${n} (${mutation.kind})`
      let result: ParsedInventory
      try {
        result = parseInventory(mutation.text, file)
      } catch (error) {
        throw new Error(`${where}: parseInventory threw ${(error as Error).stack}`, {cause: error})
      }
      assertPositioned(result, file, mutation.text, where)
      if (result.inventory) {
        tally.valid++
        expect(result.problems, where).toEqual([])
        assertSafe(result.inventory, where)
      } else {
        tally.invalid++
        expect(result.problems.length, where).toBeGreaterThan(0)
      }
      const unknown = mutation.unknownKey
      // A labels map is free-form; `kind` picks the member of a union, so its typo fails the union instead.
      const freeForm = unknown && (unknown.mapPath.at(-1) === 'labels' || unknown.original === 'kind')
      if (unknown && !freeForm && !result.problems.some((p) => p.field === '(yaml)')) {
        const field = formatField([...unknown.mapPath, unknown.key])
        const reported = result.problems.find((p) => p.field === field && p.message.startsWith(`unknown key "${unknown.key}"`))
        expect(reported, `${where}: ${field} not reported unknown; got ${formatProblems(result.problems)}`).toBeDefined()
        expect({line: reported!.line, column: reported!.column}, where).toEqual(keyPosition(mutation.text, unknown.mapPath, unknown.key))
        if (unknown.original && unknown.original.toLowerCase() === unknown.key.toLowerCase())
          expect(reported!.message, where).toContain(`did you mean ${unknown.original}?`)
        tally.unknownKeysReported++
      }
    }
    // The mix must exercise both outcomes and the typo path, or the fuzz proves little.
    expect(tally.invalid).toBeGreaterThan(MUTATIONS_PER_FILE / 3)
    expect(tally.valid).toBeGreaterThan(0)
    expect(tally.unknownKeysReported).toBeGreaterThan(MUTATIONS_PER_FILE / 20)
  })

  it('refuses every hostile env name a file name could carry', () => {
    for (const name of [...HOSTILE_STRINGS, '.', '...', 'a..b', 'a/b']) {
      const file = `/srv/inventories/${name}.yml`
      let env: string | undefined
      try {
        env = envNameOfFile(file)
      } catch {
        continue
      }
      expect(isSafeName(env), `env ${JSON.stringify(env)} from ${JSON.stringify(file)}`).toBe(true)
    }
  })
})
