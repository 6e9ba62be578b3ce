import type {CheckResult, CheckStatus} from './types.js'

const LABEL: Record<CheckStatus, string> = {pass: 'ok', warn: 'WARN', fail: 'FAIL', error: 'ERROR', skip: 'skip'}

/**
 * The report as a table grouped by check then target; the check id is printed once per group, and
 * each warning, failure or error gets its hint on the line below.
 */
export function renderResultTable(results: readonly CheckResult[]): string[] {
  const checkWidth = Math.max(5, ...results.map((r) => r.check.length))
  const targetWidth = Math.max(6, ...results.map((r) => r.target.length))
  const lines = [`${'CHECK'.padEnd(checkWidth)}  ${'TARGET'.padEnd(targetWidth)}  ${'STATUS'.padEnd(6)}  DETAIL`]
  let previous = ''
  for (const r of results) {
    const check = r.check === previous ? '' : r.check
    previous = r.check
    lines.push(`${check.padEnd(checkWidth)}  ${r.target.padEnd(targetWidth)}  ${LABEL[r.status].padEnd(6)}  ${r.detail}`)
    if (r.hint && r.status !== 'pass' && r.status !== 'skip') lines.push(`${' '.repeat(checkWidth + targetWidth + 12)}hint: ${r.hint}`)
  }
  return lines
}

/** Keeps the report in registry order but each check's rows in target order. */
export function orderResults(results: readonly CheckResult[], checkOrder: readonly string[]): CheckResult[] {
  const rank = new Map(checkOrder.map((id, i) => [id, i]))
  return [...results].sort((a, b) => (rank.get(a.check) ?? 0) - (rank.get(b.check) ?? 0) || a.target.localeCompare(b.target, undefined, {numeric: true}))
}
