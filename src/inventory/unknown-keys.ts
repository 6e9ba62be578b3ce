import type {z} from 'zod'

/** Levenshtein distance between two short strings (key names). */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({length: b.length + 1}, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]!
}

/** The known name a typo most likely meant: same letters in another case first, else the closest few edits away. */
export function nearestName(typed: string, known: readonly string[]): string | undefined {
  const sameLetters = known.find((k) => k.toLowerCase() === typed.toLowerCase())
  if (sameLetters) return sameLetters
  const limit = Math.max(2, Math.floor(typed.length / 3))
  let best: {name: string; distance: number} | undefined
  for (const name of known) {
    const distance = editDistance(typed.toLowerCase(), name.toLowerCase())
    if (distance <= limit && (!best || distance < best.distance)) best = {name, distance}
  }
  return best?.name
}

interface SchemaDef {
  type: string
  shape?: Record<string, z.ZodType>
  innerType?: z.ZodType
  in?: z.ZodType
  element?: z.ZodType
  options?: z.ZodType[]
  valueType?: z.ZodType
}

const defOf = (schema: z.ZodType): SchemaDef => (schema as unknown as {_zod: {def: SchemaDef}})._zod.def

/** Unwraps optional/default/pipe wrappers and picks the union member the input's discriminator chose. */
function unwrap(schema: z.ZodType, input: unknown): z.ZodType[] {
  const def = defOf(schema)
  if (def.innerType) return unwrap(def.innerType, input)
  if (def.type === 'pipe' && def.in) return unwrap(def.in, input)
  if (def.type === 'union' && def.options) {
    const all = def.options.flatMap((o) => unwrap(o, input))
    const chosen = all.filter((o) => {
      const shape = defOf(o).shape
      if (!shape || typeof input !== 'object' || input === null) return false
      // A literal field (the discriminator) that accepts the input's value picks this member.
      return Object.entries(shape).some(([key, field]) => defOf(field).type === 'literal' && field.safeParse((input as Record<string, unknown>)[key]).success)
    })
    return chosen.length > 0 ? chosen : all
  }
  return [schema]
}

/** The keys the object schema at `path` knows, following the input through arrays, records and unions. */
export function knownKeysAt(schema: z.ZodType, input: unknown, path: readonly PropertyKey[]): string[] {
  let candidates = unwrap(schema, input)
  let value = input
  for (const key of path) {
    value = typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[key] : undefined
    candidates = candidates.flatMap((c) => {
      const def = defOf(c)
      const next = def.type === 'object' ? def.shape?.[String(key)] : def.type === 'array' ? def.element : def.type === 'record' ? def.valueType : undefined
      return next ? unwrap(next, value) : []
    })
  }
  return [...new Set(candidates.flatMap((c) => Object.keys(defOf(c).shape ?? {})))]
}
