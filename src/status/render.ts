import {formatAge} from '../checks/all/backups.js'
import {painter, type Colour} from '../lib/colour.js'
import type {ClusterState, StatusReport} from './report.js'

/** `ctl status` as one screen of text: problems first, then activity, nodes, services, clusters, backups. */

const SEVERITY: Record<string, {label: string; colour: Colour}> = {
  fail: {label: 'FAIL', colour: 'red'},
  error: {label: 'ERROR', colour: 'magenta'},
  warn: {label: 'WARN', colour: 'yellow'},
  pass: {label: 'ok', colour: 'green'},
  skip: {label: 'skip', colour: 'dim'},
  unknown: {label: '?', colour: 'magenta'},
}
const CLUSTER: Record<ClusterState, Colour> = {ok: 'green', degraded: 'yellow', down: 'red', unknown: 'magenta'}

function table(rows: readonly string[][], paintCell: (row: number, col: number, text: string) => string = (_r, _c, t) => t): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => r[i]!.length))) ?? []
  return rows.map((r, ri) => `  ${r.map((cell, ci) => paintCell(ri, ci, ci === r.length - 1 ? cell : cell.padEnd(widths[ci]!))).join('  ')}`.trimEnd())
}

function ago(iso: string | undefined, now: Date): string {
  const at = iso ? Date.parse(iso) : Number.NaN
  return Number.isNaN(at) ? '?' : `${formatAge(Math.max(0, (now.getTime() - at) / 1000))} ago`
}

export function renderStatus(report: StatusReport, colour: boolean): string[] {
  const paint = painter(colour)
  const now = new Date(report.at)
  const head = paint('bold', 'ctl status')
  const counts =
    report.problems.length === 0
      ? paint('green', 'no problems')
      : paint(report.exitCode === 1 ? 'red' : 'yellow', `${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}`)
  const lines = [`${head} ${report.env}  ${report.at.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}  (${(report.durationMs / 1000).toFixed(1)} s)  ${counts}`]

  if (report.problems.length > 0) {
    lines.push('', paint('bold', 'PROBLEMS'))
    for (const p of report.problems) {
      const s = SEVERITY[p.severity]!
      lines.push(`  ${paint(s.colour, s.label.padEnd(5))}  ${p.area} ${p.target}: ${p.detail}`)
      if (p.hint) lines.push(`         ${paint('dim', `→ ${p.hint}`)}`)
    }
  }

  lines.push('', paint('bold', 'ACTIVITY'))
  if (report.locks.length === 0) lines.push('  no deploy or runbook in progress')
  for (const l of report.locks)
    lines.push(
      `  ${l.stale ? paint('yellow', 'STALE') : paint('bold', 'HELD ')}  ${l.kind} lock ${l.name} on ${l.nodes.join(',')}: ${l.holder} since ${ago(l.since, now)}${l.what ? `, ${l.what}` : ''}`,
    )
  for (const h of report.recent)
    lines.push(
      `  ${paint('dim', ago(h.time, now).padEnd(12))}  ${h.operator}  ctl ${h.command.replace(/^\S+/, (id) => id.replaceAll(':', ' '))}  ${h.outcome === 'ok' ? h.outcome : paint('yellow', h.outcome)}`,
    )

  lines.push('', paint('bold', 'NODES'))
  lines.push(
    ...table(
      report.nodes.map((n) => [
        n.name,
        n.address,
        n.reachable ? 'ssh ok' : 'UNREACHABLE',
        n.role ? `${n.role}${n.leader ? ' (leader)' : ''}` : '-',
        n.state ?? '-',
        n.availability ?? '-',
      ]),
      (_r, c, t) => (c === 2 && t.startsWith('UNREACHABLE') ? paint('red', t) : c === 4 && t.trim() !== 'ready' && t.trim() !== '-' ? paint('red', t) : t),
    ),
  )

  if (report.services.length > 0) {
    lines.push('', paint('bold', 'SERVICES'))
    lines.push(
      ...table(
        report.services.map((s) => [
          s.name,
          s.image ?? '-',
          s.running === undefined ? '-' : `${s.running}/${s.desired}`,
          s.updateState ?? '-',
          SEVERITY[s.health]!.label,
          s.lastRelease
            ? `#${s.lastRelease.id} ${s.lastRelease.kind} by ${s.lastRelease.who} ${ago(s.lastRelease.at, now)} (${s.lastRelease.outcome})`
            : 'no release recorded',
        ]),
        (r, c, t) => (c === 4 ? paint(SEVERITY[report.services[r]!.health]!.colour, t) : t),
      ),
    )
  }

  if (report.clusters.length > 0) {
    lines.push('', paint('bold', 'CLUSTERS'))
    lines.push(
      ...table(
        report.clusters.map((c) => [c.name, c.state, c.leader ? `leader ${c.leader}` : '', c.summary]),
        (r, c, t) => (c === 1 ? paint(CLUSTER[report.clusters[r]!.state], t) : t),
      ),
    )
  }

  if (report.backups.length > 0) {
    lines.push('', paint('bold', 'BACKUPS'))
    lines.push(
      ...table(
        report.backups.map((b) => [b.component, SEVERITY[b.status]!.label, b.detail]),
        (r, c, t) => (c === 1 ? paint(SEVERITY[report.backups[r]!.status]!.colour, t) : t),
      ),
    )
  }
  return lines
}
