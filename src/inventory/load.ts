import {existsSync, readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {basename, dirname, isAbsolute, join, resolve} from 'node:path'
import {LineCounter, parseDocument, isMap, isSeq, type Document, type Node as YamlNode} from 'yaml'
import type {z} from 'zod'
import {CtlError, ExitCode} from '../lib/errors.js'
import {inventorySchema, type Inventory, type InventoryNode} from './schema/index.js'
import {isSafeName, SAFE_NAME_RULE} from './schema/common.js'
import {knownKeysAt, nearestName} from './unknown-keys.js'
import {inventoryWarnings} from './warnings.js'

export interface LoadedInventory {
  /** The env name (file name without extension); safe in file names and paths (see `envNameOfFile`). */
  env: string
  /** Absolute path of the inventory file. */
  file: string
  inventory: Inventory
}

export interface InventoryProblem {
  file: string
  line: number
  column: number
  /** Dotted path of the field, e.g. `nodes[1].address`. */
  field: string
  message: string
}

/** `prod` → inventories/prod.yml; anything with a slash or a .yml/.yaml ending is a path. */
export function resolveInventoryPath(envOrPath: string, cwd = process.cwd()): string {
  if (envOrPath.includes('/') || /\.ya?ml$/.test(envOrPath)) return resolve(cwd, envOrPath)
  if (!isSafeName(envOrPath)) {
    throw new CtlError(`"${envOrPath}" is not an environment name`, {
      exitCode: ExitCode.cannotRun,
      hint: `Use a name like prod (${SAFE_NAME_RULE}), or a path to a .yml file.`,
    })
  }
  const dir = process.env.CTL_INVENTORY_DIR ?? join(cwd, 'inventories')
  return resolve(dir, `${envOrPath}.yml`)
}

/**
 * The env name an inventory file gives (`inventories/prod.yml` → `prod`). It becomes part of lock,
 * journal and upload paths on this machine and on hosts, so it must be a safe name: `...yml` (env
 * `..`) or `.hidden.yml` are refused here, once, for every consumer.
 */
export function envNameOfFile(file: string): string {
  const env = basename(file).replace(/\.ya?ml$/, '')
  if (!isSafeName(env)) {
    throw new CtlError(`${file}: "${env}" is not a usable environment name`, {
      exitCode: ExitCode.cannotRun,
      code: 'inventory.bad-env-name',
      hint: `Rename the file: the env name (file name without .yml) must be ${SAFE_NAME_RULE}.`,
    })
  }
  return env
}

export function formatField(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '')
}

/** The YAML node closest to `path` that exists, so a missing field points at its parent. */
function nearestNode(doc: Document, path: readonly PropertyKey[]): YamlNode | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth) as unknown[], true) as YamlNode | undefined
    if (node && typeof node === 'object' && 'range' in node && node.range) return node
    // For a key whose value is missing, point at the key itself.
    const parent = doc.getIn(path.slice(0, depth - 1) as unknown[], true)
    if (depth > 0 && (isMap(parent) || isSeq(parent))) {
      const key = path[depth - 1]
      if (isMap(parent)) {
        const pair = parent.items.find((p) => (p.key as {value?: unknown} | null)?.value === key)
        const keyNode = pair?.key as YamlNode | undefined
        if (keyNode?.range) return keyNode
      }
    }
  }
  return undefined
}

/** Messages quote what the file says: control characters (newlines, terminal escapes) are shown escaped, one problem per line. */
function printable(text: string): string {
  return text.replace(/\p{Cc}/gu, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`))
}

/** The key node of `key` in the map at `mapPath`, so an unknown key is reported where it is written. */
function keyNode(doc: Document, mapPath: readonly PropertyKey[], key: string): YamlNode | undefined {
  const map = mapPath.length === 0 ? doc.contents : doc.getIn(mapPath as unknown[], true)
  if (!isMap(map)) return undefined
  const pair = map.items.find((p) => String((p.key as {value?: unknown} | null)?.value ?? p.key) === key)
  return (pair?.key as YamlNode | undefined) ?? undefined
}

/** One issue per problem: an object with unknown keys gives one problem per key, at that key. */
function issueProblems(issue: z.core.$ZodIssue, doc: Document, input: unknown): {path: PropertyKey[]; node?: YamlNode; message: string}[] {
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeysAt(inventorySchema, input, issue.path)
    return issue.keys.map((key) => {
      const suggestion = nearestName(key, known)
      return {
        path: [...issue.path, key],
        node: keyNode(doc, issue.path, key) ?? nearestNode(doc, issue.path),
        message: `unknown key "${key}"${suggestion ? ` (did you mean ${suggestion}?)` : known.length > 0 ? `; known keys: ${known.join(', ')}` : ''}`,
      }
    })
  }
  // zod says "expected string, received undefined" for a key that is not there at all.
  const message = issue.code === 'invalid_type' && / received undefined$/.test(issue.message) ? `required (${issue.expected}) but missing` : issue.message
  return [{path: issue.path, node: nearestNode(doc, issue.path), message}]
}

export interface ParsedInventory {
  inventory?: Inventory
  problems: InventoryProblem[]
  /** Valid but risky settings (e.g. Vault over plain http off the lab); never a reason to refuse. */
  warnings: InventoryProblem[]
}

/** Parses and validates inventory text; returns the inventory or every problem with its line. */
export function parseInventory(text: string, file: string): ParsedInventory {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, {lineCounter, prettyErrors: false, uniqueKeys: true})
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0])
        return {file, line: pos.line, column: pos.col, field: '(yaml)', message: e.message.split('\n')[0]}
      }),
      warnings: [],
    }
  }
  const at = (path: readonly PropertyKey[], node: YamlNode | undefined, message: string): InventoryProblem => {
    const pos = node?.range ? lineCounter.linePos(node.range[0]) : {line: 1, col: 1}
    return {file, line: pos.line, column: pos.col, field: printable(formatField(path) || '(root)'), message: printable(message)}
  }
  let input: unknown
  try {
    input = doc.toJS({maxAliasCount: 100})
  } catch (error) {
    // e.g. an alias expanding into too many nodes ("billion laughs").
    return {problems: [at([], doc.contents ?? undefined, `cannot be read as data: ${(error as Error).message}`)], warnings: []}
  }
  const result = inventorySchema.safeParse(input)
  if (result.success) {
    return {inventory: result.data, problems: [], warnings: inventoryWarnings(result.data).map((w) => at(w.path, nearestNode(doc, w.path), w.message))}
  }
  return {
    problems: result.error.issues.flatMap((issue) => issueProblems(issue, doc, input).map((p) => at(p.path, p.node, p.message))),
    warnings: [],
  }
}

export function formatProblems(problems: InventoryProblem[], label = ''): string {
  return problems.map((p) => `${p.file}:${p.line}:${p.column}: ${label}${p.field}: ${p.message}`).join('\n')
}

/** Loads and validates an inventory; a bad one stops here, before anything touches a host. */
export function loadInventory(envOrPath: string): LoadedInventory {
  const file = resolveInventoryPath(envOrPath)
  if (!existsSync(file)) {
    throw new CtlError(`No inventory at ${file}`, {
      exitCode: ExitCode.cannotRun,
      code: 'inventory.missing',
      hint: 'Create inventories/<env>.yml (see inventories/examples/), or pass a path to a .yml file.',
    })
  }
  const env = envNameOfFile(file)
  const {inventory, problems} = parseInventory(readFileSync(file, 'utf8'), file)
  if (!inventory) {
    throw new CtlError(`Invalid inventory ${file}:\n${formatProblems(problems)}`, {
      exitCode: ExitCode.failed,
      code: 'inventory.invalid',
      hint: 'Fix the fields named above; `ctl inventory validate` re-checks without touching any host.',
    })
  }
  return {env, file, inventory}
}

/** Resolves `~` and paths relative to the inventory file. */
export function resolveInventoryRelative(loaded: Pick<LoadedInventory, 'file'>, path: string): string {
  if (path === '~' || path.startsWith('~/')) return join(homedir(), path.slice(1))
  return isAbsolute(path) ? path : resolve(dirname(loaded.file), path)
}

export function findNode(loaded: LoadedInventory, name: string): InventoryNode {
  const node = loaded.inventory.nodes.find((n) => n.name === name)
  if (!node) {
    throw new CtlError(`No node named "${name}" in ${loaded.file}`, {
      exitCode: ExitCode.cannotRun,
      hint: `Known nodes: ${loaded.inventory.nodes.map((n) => n.name).join(', ')}`,
    })
  }
  return node
}
