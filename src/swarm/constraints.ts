/**
 * Swarm placement constraints (`node.labels.type == service`), evaluated the way the swarm
 * scheduler does: `==` / `!=`, values compared case-insensitively, a missing label counts as empty,
 * and every constraint of a service must hold.
 */

export interface Constraint {
  text: string
  key: string
  op: '==' | '!='
  value: string
}

/** What a constraint can be checked against: an inventory node or a live swarm node. */
export interface PlacementTarget {
  name: string
  hostname: string
  role: 'manager' | 'worker'
  labels: Record<string, string>
  /** Known for live swarm nodes only. */
  id?: string
  os?: string
  arch?: string
}

export function parseConstraint(text: string): Constraint | undefined {
  const m = /^\s*([^=!\s]+)\s*(==|!=)\s*(.*?)\s*$/.exec(text)
  if (!m || m[3] === '') return undefined
  return {text, key: m[1]!, op: m[2] as '==' | '!=', value: m[3]!.replace(/^(["'])(.*)\1$/, '$2')}
}

/** The value the node has for the constraint's key; undefined when it cannot be known here. */
function valueOf(key: string, target: PlacementTarget): string | undefined {
  const lower = key.toLowerCase()
  if (lower.startsWith('node.labels.')) return target.labels[key.slice('node.labels.'.length)] ?? ''
  switch (lower) {
    case 'node.hostname':
      return target.hostname
    case 'node.role':
      return target.role
    case 'node.id':
      return target.id
    case 'node.platform.os':
      return target.os
    case 'node.platform.arch':
      return target.arch
    default:
      return undefined
  }
}

export type ConstraintVerdict = {matches: true} | {matches: false; failed: string} | {matches: 'unknown'; reason: string}

/** Whether every constraint holds on the target; `unknown` when one cannot be evaluated (e.g. `engine.labels`). */
export function matchConstraints(constraints: readonly string[], target: PlacementTarget): ConstraintVerdict {
  let unknown: string | undefined
  for (const text of constraints) {
    if (text.includes('${')) {
      unknown ??= `"${text}" uses a variable`
      continue
    }
    const c = parseConstraint(text)
    if (!c) return {matches: false, failed: `"${text}" is not a valid constraint`}
    const actual = valueOf(c.key, target)
    if (actual === undefined) {
      unknown ??= `"${text}" cannot be checked before deploy`
      continue
    }
    const equal = actual.toLowerCase() === c.value.toLowerCase()
    if (equal !== (c.op === '==')) return {matches: false, failed: text}
  }
  return unknown ? {matches: 'unknown', reason: unknown} : {matches: true}
}
