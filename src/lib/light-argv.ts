import {existsSync, readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import type {LightInput} from './light.js'

/**
 * Which light command (src/lib/light.ts) an argv runs, read by bin/run.js before oclif loads: only
 * a plain argv qualifies, one whose parse by oclif is certain. Everything else is left to oclif,
 * which parses, reports and exits as always: --help and --version, a missing or extra argument, an
 * unknown flag, a short flag, `--`, a flag value, an argument that looks like a flag.
 * Imports nothing but Node's own modules: it runs on every start.
 */

/** The parts of oclif's manifest (oclif.manifest.json) this reads. */
interface ManifestCommand {
  args?: Record<string, Record<string, unknown>>
  flags?: Record<string, Record<string, unknown>>
  enableJsonFlag?: boolean
  state?: string
  deprecateAliases?: boolean
  light?: {module: string; export: string}
}

export interface LightPlan {
  /** The command's id, e.g. `inventory:validate`. */
  id: string
  /** The bundle scripts/light.mjs built: dist/light/<topic>-<command>.<hash of its content>.cjs. */
  file: string
  input: LightInput
  /** Whether oclif would print JSON (`--json`, or CTL_CONTENT_TYPE=json). */
  json: boolean
}

/** The keys an argument may have and still be plain: a required string without default or options. */
const PLAIN_ARG_KEYS = new Set(['name', 'description', 'required'])
/** The keys a flag may have and still be plain: a boolean, `--name` only, without `--no-`. */
const PLAIN_FLAG_KEYS = new Set(['name', 'description', 'summary', 'helpGroup', 'type', 'allowNo', 'default'])

/**
 * The light command `argv` runs and its parsed input, or undefined for oclif: `root` is ctl's
 * directory (oclif.manifest.json, dist/), `env` the process environment.
 */
export function planLight(argv: readonly string[], root: string, env: NodeJS.ProcessEnv = process.env): LightPlan | undefined {
  // An operator's switch back to oclif for every command; oclif's own debug output needs oclif.
  if (env.CTL_LIGHT === '0' || env.DEBUG || env.CTL_DEBUG) return undefined
  let commands: Record<string, ManifestCommand>
  try {
    ;({commands} = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, ManifestCommand>})
  } catch {
    return undefined
  }
  // The command's words, as oclif's space-separated topics: `inventory validate` is `inventory:validate`.
  let words = 0
  while (words < argv.length && /^[a-z][a-z0-9-]*$/.test(argv[words]) && !commands[argv.slice(0, words).join(':')]) words++
  const id = argv.slice(0, words).join(':')
  const command = commands[id]
  if (!command?.light || command.state || command.deprecateAliases) return undefined

  const argDefs = Object.values(command.args ?? {})
  const flagDefs = command.flags ?? {}
  if (!argDefs.every((def) => def.required === true && Object.keys(def).every((key) => PLAIN_ARG_KEYS.has(key)))) return undefined
  const isPlainFlag = (def: Record<string, unknown>) => def.type === 'boolean' && !def.allowNo && Object.keys(def).every((key) => PLAIN_FLAG_KEYS.has(key))
  if (!Object.values(flagDefs).every(isPlainFlag)) return undefined

  const positional: string[] = []
  const flags: LightInput['flags'] = {}
  for (const token of argv.slice(words)) {
    if (token.startsWith('-')) {
      const name = token.slice(2)
      // --help and --version are oclif's even where a command declares a flag of that name.
      if (!token.startsWith('--') || name === 'help' || name === 'version' || !Object.hasOwn(flagDefs, name) || name in flags) return undefined
      flags[name] = true
    } else if (token === '') {
      return undefined
    } else {
      positional.push(token)
    }
  }
  if (positional.length !== argDefs.length) return undefined
  for (const [name, def] of Object.entries(flagDefs)) if (!(name in flags) && typeof def.default === 'boolean') flags[name] = def.default

  const json = Boolean(command.enableJsonFlag) && (flags.json === true || env.CTL_CONTENT_TYPE?.toLowerCase() === 'json')
  // oclif colours JSON by a user's theme (ctl's package.json names none): with one, oclif prints.
  if (json && existsSync(join(env.CTL_CONFIG_DIR ?? join(env.XDG_CONFIG_HOME ?? join(env.HOME || homedir(), '.config'), 'ctl'), 'theme.json'))) return undefined
  // The bundle the build made of the command (scripts/light.mjs); none after a bare `tsc`.
  let bundles: Record<string, string>
  try {
    bundles = JSON.parse(readFileSync(join(root, 'dist', 'light', 'index.json'), 'utf8')) as Record<string, string>
  } catch {
    return undefined
  }
  if (!Object.hasOwn(bundles, id)) return undefined
  const file = join(root, 'dist', 'light', bundles[id])
  const args = Object.fromEntries(Object.keys(command.args ?? {}).map((name, i) => [name, positional[i]]))
  return {id, file, input: {args, flags}, json}
}
