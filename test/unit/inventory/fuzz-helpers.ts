import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {isMap, isScalar, isSeq, LineCounter, parseDocument, Scalar, type Document, type Node as YamlNode} from 'yaml'
import {formatField} from '../../../src/inventory/load.js'

/** The inventories the fuzz mutates: every example and the lab's. */
export function seedInventories(): {file: string; text: string}[] {
  const root = join(import.meta.dirname, '../../../inventories')
  const files = [
    ...readdirSync(join(root, 'examples'))
      .filter((f) => f.endsWith('.yml'))
      .map((f) => join(root, 'examples', f)),
    join(root, 'lab.yml'),
  ]
  return files.map((file) => ({file, text: readFileSync(file, 'utf8')}))
}

/** mulberry32: a small seeded PRNG, so a failing case reproduces from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export type Path = (string | number)[]

interface Places {
  maps: Path[]
  seqs: Path[]
  scalars: {path: Path; value: unknown}[]
}

/** Every map, sequence and scalar of a document, by path. */
function places(doc: Document): Places {
  const found: Places = {maps: [], seqs: [], scalars: []}
  const walk = (node: unknown, path: Path) => {
    if (isMap(node)) {
      found.maps.push(path)
      for (const pair of node.items) if (isScalar(pair.key)) walk(pair.value, [...path, String(pair.key.value)])
    } else if (isSeq(node)) {
      found.seqs.push(path)
      node.items.forEach((item, i) => walk(item, [...path, i]))
    } else if (isScalar(node)) {
      found.scalars.push({path, value: node.value})
    }
  }
  walk(doc.contents, [])
  return found
}

/** Strings that have hurt tools like this one: shell syntax, separators, traversal, control characters. */
export const HOSTILE_STRINGS = [
  '$(touch /tmp/ctl-fuzz-pwned)',
  '`id`',
  'a; rm -rf /',
  'a && reboot',
  'a | nc evil 1',
  'it\'s "quoted"',
  '..',
  '../../etc/passwd',
  'a/../../b',
  '/var/lib/../../tmp',
  'line1\nline2',
  'name\n- injected: true',
  'tab\there',
  'nul\u0000byte',
  'esc\u001b[31m',
  'back\\slash',
  ' leading space',
  '-rf',
  '.hidden',
  '',
  'x'.repeat(5000),
  'ünïcødé',
]

const ODD_VALUES: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  1e308,
  2 ** 64,
  -(2 ** 63),
  Number.POSITIVE_INFINITY,
  Number.NaN,
  [],
  [1, 2],
  {},
  {a: 1},
  'string',
  '65536',
  ...HOSTILE_STRINGS,
]

/** Near-miss typos of a key: case changes, a dropped, doubled or swapped letter. */
function typosOf(key: string, random: () => number): string[] {
  const i = Math.floor(random() * key.length)
  const typos = [
    key.toLowerCase(),
    key.toUpperCase(),
    key.slice(0, i) + key.slice(i + 1),
    key.slice(0, i) + key[i] + key.slice(i),
    i + 1 < key.length ? key.slice(0, i) + key[i + 1] + key[i] + key.slice(i + 2) : `${key}s`,
    `${key}_`,
  ]
  return typos.filter((t) => t !== key && t !== '')
}

/** Where the key node `key` of the map at `mapPath` is written in `text` (1-based line, column). */
export function keyPosition(text: string, mapPath: Path, key: string): {line: number; column: number} | undefined {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, {lineCounter})
  const map = mapPath.length === 0 ? doc.contents : doc.getIn(mapPath, true)
  if (!isMap(map)) return undefined
  const pair = map.items.find((p) => isScalar(p.key) && String(p.key.value) === key)
  const node = pair?.key as YamlNode | undefined
  if (!node?.range) return undefined
  const pos = lineCounter.linePos(node.range[0])
  return {line: pos.line, column: pos.col}
}

/** Every string in a loaded value with its dotted path. */
export function stringsIn(value: unknown, path = ''): {path: string; value: string}[] {
  if (typeof value === 'string') return [{path, value}]
  if (Array.isArray(value)) return value.flatMap((v, i) => stringsIn(v, `${path}[${i}]`))
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => stringsIn(v, path ? `${path}.${k}` : k))
  return []
}

export interface Mutation {
  kind: string
  text: string
  /** For key renames and additions: the key that must be reported unknown (unless its map is a free-form record). */
  unknownKey?: {mapPath: Path; key: string; original?: string}
}

const pick = <T>(random: () => number, items: readonly T[]): T => items[Math.floor(random() * items.length)]!

export interface Seed {
  text: string
  doc: Document
  places: ReturnType<typeof places>
  mapsWithKeys: Path[]
}

export function seedOf(text: string): Seed {
  const doc = parseDocument(text) as Document
  const found = places(doc)
  const mapsWithKeys = found.maps.filter((m) => {
    const node = m.length === 0 ? doc.contents : doc.getIn(m, true)
    return isMap(node) && node.items.length > 0
  })
  return {text, doc, places: found, mapsWithKeys}
}

/** One random mutation of the seed, structural (on a clone of its YAML document) or raw. */
export function mutate(seed: Seed, random: () => number): Mutation {
  const {text, mapsWithKeys} = seed
  const {maps, seqs, scalars} = seed.places
  const doc = seed.doc.clone()
  const kind = pick(random, ['value', 'hostile', 'delete', 'rename', 'add-key', 'array-for-object', 'object-for-array', 'raw'] as const)
  const out = (kinds: string, extra: Partial<Mutation> = {}): Mutation => ({kind: kinds, text: doc.toString(), ...extra})
  switch (kind) {
    case 'value': {
      const {path} = pick(random, scalars)
      doc.setIn(path, pick(random, ODD_VALUES))
      return out(`value at ${formatField(path)}`)
    }
    case 'hostile': {
      // Every string field gets its turn at shell syntax, traversal and control characters.
      const strings = scalars.filter((s) => typeof s.value === 'string')
      const {path, value} = pick(random, strings)
      const hostile = pick(random, HOSTILE_STRINGS)
      doc.setIn(path, random() < 0.5 ? hostile : `${String(value)}${hostile}`)
      return out(`hostile string at ${formatField(path)}`)
    }
    case 'delete': {
      const path = pick(
        random,
        [...scalars.map((s) => s.path), ...maps, ...seqs].filter((p) => p.length > 0),
      )
      doc.deleteIn(path)
      return out(`delete ${formatField(path)}`)
    }
    case 'rename': {
      const mapPath = pick(random, mapsWithKeys)
      const map = mapPath.length === 0 ? doc.contents : doc.getIn(mapPath, true)
      if (!isMap(map)) throw new Error('not a map')
      const pair = pick(random, map.items)
      const original = String((pair.key as Scalar).value)
      const typo = pick(random, typosOf(original, random))
      pair.key = new Scalar(typo)
      return out(`rename ${formatField([...mapPath, original])} → ${typo}`, {unknownKey: {mapPath, key: typo, original}})
    }
    case 'add-key': {
      const mapPath = pick(random, maps)
      const key = pick(random, ['extra', 'x', 'enabled', 'Name', 'knownhosts', 'pgpkeys', 'sudo_', 'tlss', '$(id)', '..'])
      const map = mapPath.length === 0 ? doc.contents : doc.getIn(mapPath, true)
      if (isMap(map) && map.items.some((p) => isScalar(p.key) && String(p.key.value) === key)) return out('no-op')
      doc.setIn([...mapPath, key], pick(random, ['v', 1, true, null, {}]))
      return out(`add ${formatField([...mapPath, key])}`, {unknownKey: {mapPath, key}})
    }
    case 'array-for-object': {
      const path = pick(random, maps)
      if (path.length === 0) return {kind: 'root is a list', text: '- name: a\n'}
      doc.setIn(path, [pick(random, ODD_VALUES)])
      return out(`array for object at ${formatField(path)}`)
    }
    case 'object-for-array': {
      const path = pick(random, seqs)
      doc.setIn(path, {a: pick(random, ODD_VALUES)})
      return out(`object for array at ${formatField(path)}`)
    }
    case 'raw': {
      const at = Math.floor(random() * text.length)
      const raw = pick(random, ['truncate', 'insert', 'dup-line', 'tab'] as const)
      if (raw === 'truncate') return {kind: `truncate at ${at}`, text: text.slice(0, at)}
      if (raw === 'insert')
        return {
          kind: `insert at ${at}`,
          text: text.slice(0, at) + pick(random, [':', '- ', '[', '{', '"', "'", '&a ', '*a', '!!binary ', '<<: *x', '\u0000', '\n  ']) + text.slice(at),
        }
      const lines = text.split('\n')
      const line = Math.floor(random() * lines.length)
      if (raw === 'dup-line') return {kind: `duplicate line ${line + 1}`, text: [...lines.slice(0, line + 1), ...lines.slice(line)].join('\n')}
      return {kind: `tab indent line ${line + 1}`, text: lines.map((l, i) => (i === line ? `\t${l}` : l)).join('\n')}
    }
  }
}
