import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {planLight} from '../../../src/lib/light-argv.js'
import {projectRoot} from '../../support/cli.js'

/** A ctl directory with a manifest and built light bundles, as bin/run.js finds them. */
let root: string
const env = {HOME: '/nonexistent'}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'ctl-light-argv-'))
  const flag = (name: string, extra = {}) => ({[name]: {description: name, name, type: 'boolean', allowNo: false, ...extra}})
  const commands = {
    'inventory:validate': {
      args: {env: {description: 'Environment name or inventory file', name: 'env', required: true}},
      flags: flag('json', {helpGroup: 'GLOBAL'}),
      enableJsonFlag: true,
      light: {module: '../../inventory/validate.js', export: 'validateInventory'},
    },
    'x:flags': {args: {}, flags: {...flag('all', {default: false}), ...flag('deep')}, light: {module: 'm.js', export: 'run'}},
    'x:option': {args: {}, flags: {name: {name: 'name', type: 'option'}}, light: {module: 'm.js', export: 'run'}},
    'x:optional': {args: {env: {name: 'env', required: false}}, flags: {}, light: {module: 'm.js', export: 'run'}},
    'x:deprecated': {args: {}, flags: {}, state: 'deprecated', light: {module: 'm.js', export: 'run'}},
    'x:unbuilt': {args: {}, flags: {}, light: {module: 'm.js', export: 'run'}},
    'x:heavy': {args: {}, flags: {}},
  }
  writeFileSync(join(root, 'oclif.manifest.json'), JSON.stringify({commands}))
  mkdirSync(join(root, 'dist', 'light'), {recursive: true})
  const index = {
    'inventory:validate': 'inventory-validate.0123.cjs',
    'x:flags': 'x-flags.1.cjs',
    'x:option': 'x.cjs',
    'x:optional': 'x.cjs',
    'x:deprecated': 'x.cjs',
    'x:heavy': 'x.cjs',
  }
  writeFileSync(join(root, 'dist', 'light', 'index.json'), JSON.stringify(index))
})
afterAll(() => rmSync(root, {recursive: true, force: true}))

describe('planLight: which argv bin/run.js runs without oclif', () => {
  it('takes the command words, its arguments by name and --json', () => {
    expect(planLight(['inventory', 'validate', 'lab'], root, env)).toEqual({
      id: 'inventory:validate',
      file: join(root, 'dist', 'light', 'inventory-validate.0123.cjs'),
      input: {args: {env: 'lab'}, flags: {}},
      json: false,
    })
    expect(planLight(['inventory', 'validate', '--json', 'inventories/x.yml'], root, env)).toMatchObject({
      input: {args: {env: 'inventories/x.yml'}, flags: {json: true}},
      json: true,
    })
  })

  it("JSON also from CTL_CONTENT_TYPE=json, as oclif's jsonEnabled()", () => {
    expect(planLight(['inventory', 'validate', 'lab'], root, {...env, CTL_CONTENT_TYPE: 'JSON'})?.json).toBe(true)
  })

  it('gives boolean flags their defaults, as oclif does, and sets those given', () => {
    expect(planLight(['x', 'flags'], root, env)?.input.flags).toEqual({all: false})
    expect(planLight(['x', 'flags', '--deep'], root, env)?.input.flags).toEqual({all: false, deep: true})
  })

  it.each([
    [['inventory', 'validate']],
    [['inventory', 'validate', 'a', 'b']],
    [['inventory', 'validate', '']],
    [['inventory', 'validate', 'lab', '--help']],
    [['inventory', 'validate', 'lab', '-h']],
    [['inventory', 'validate', 'lab', '--version']],
    [['inventory', 'validate', 'lab', '--nope']],
    [['inventory', 'validate', 'lab', '--json', '--json']],
    [['inventory', 'validate', 'lab', '--json=true']],
    [['inventory', 'validate', '--', 'lab']],
    [['inventory', 'validate', '-lab']],
    [['inventory:validate', 'lab']],
    [['--json', 'inventory', 'validate', 'lab']],
    [['inventory']],
    [[]],
    [['x', 'option']],
    [['x', 'optional', 'a']],
    [['x', 'deprecated']],
    [['x', 'unbuilt']],
    [['x', 'heavy']],
  ])('leaves %j to oclif', (argv) => {
    expect(planLight(argv, root, env)).toBeUndefined()
  })

  it.each([{CTL_LIGHT: '0'}, {DEBUG: '*'}, {CTL_DEBUG: '1'}])('leaves everything to oclif under %j', (extra) => {
    expect(planLight(['inventory', 'validate', 'lab'], root, {...env, ...extra})).toBeUndefined()
  })

  it("leaves --json to oclif when the user has a theme, which oclif's JSON output follows", () => {
    const config = mkdtempSync(join(tmpdir(), 'ctl-theme-'))
    try {
      mkdirSync(join(config, 'ctl'))
      writeFileSync(join(config, 'ctl', 'theme.json'), '{"json": {"key": "red"}}')
      expect(planLight(['inventory', 'validate', 'lab', '--json'], root, {...env, XDG_CONFIG_HOME: config})).toBeUndefined()
      expect(planLight(['inventory', 'validate', 'lab'], root, {...env, XDG_CONFIG_HOME: config})).toBeDefined()
    } finally {
      rmSync(config, {recursive: true, force: true})
    }
  })

  it('without a built index (tsc alone), or without a manifest, leaves everything to oclif', () => {
    const bare = mkdtempSync(join(tmpdir(), 'ctl-light-bare-'))
    try {
      expect(planLight(['inventory', 'validate', 'lab'], bare, env)).toBeUndefined()
      writeFileSync(join(bare, 'oclif.manifest.json'), readFileSync(join(root, 'oclif.manifest.json')))
      expect(planLight(['inventory', 'validate', 'lab'], bare, env)).toBeUndefined()
    } finally {
      rmSync(bare, {recursive: true, force: true})
    }
  })
})

describe("ctl's light commands", () => {
  it('each names a function its module exports, and has a bundle (needs npm run build)', async () => {
    const {commands} = JSON.parse(readFileSync(join(projectRoot, 'oclif.manifest.json'), 'utf8')) as {
      commands: Record<string, {light?: {module: string; export: string}; relativePath: string[]}>
    }
    const index = JSON.parse(readFileSync(join(projectRoot, 'dist', 'light', 'index.json'), 'utf8')) as Record<string, string>
    const light = Object.entries(commands).filter(([, command]) => command.light)
    expect(light.map(([id]) => id)).toContain('inventory:validate')
    expect(Object.keys(index).sort()).toEqual(light.map(([id]) => id).sort())
    for (const [, command] of light) {
      const module = (await import(join(projectRoot, ...command.relativePath.slice(0, -1), command.light!.module))) as Record<string, unknown>
      expect(typeof module[command.light!.export]).toBe('function')
    }
  })
})
