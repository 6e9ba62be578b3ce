import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {loadInventory} from '../../../src/inventory/load.js'
import {renderCommand} from '../../../src/lib/shell.js'
import {pgbackrestSettings} from '../../../src/patroni/pgbackrest-config.js'
import {
  copyFromScratchCommand,
  parseRowCounts,
  pgbackrestDrillCommand,
  pitrRestoreCommand,
  recoveryTargetTime,
  scratchCleanupCommand,
  scratchRowCountsCommand,
  scratchServer,
} from '../../../src/patroni/pitr.js'
import {pgPitr} from '../../../src/runbooks/pg-pitr.js'

const loaded = loadInventory(join(import.meta.dirname, '..', '..', '..', 'inventories', 'lab.yml'))
const s = pgbackrestSettings(loaded)
const x = scratchServer(s, '20261206T032229', '15')

describe('point-in-time restore into a scratch server', () => {
  it('puts the scratch server on the repository node, in its own directory', () => {
    expect(x).toEqual({node: 'h4', dir: '/var/tmp/ctl-pitr-ctl-lab-20261206T032229', port: 55432, pgVersion: '15'})
  })

  it('gives PostgreSQL a target time it accepts (no "T", no "Z")', () => {
    expect(recoveryTargetTime('2026-12-06T03:18:19.617Z')).toBe('2026-12-06 03:18:19.617+00')
  })

  it('restores the chosen set to the time, promotes, never archives, listens on no network', () => {
    const script = renderCommand(pitrRestoreCommand(s, x, '20261206-031811F', '2026-12-06T03:18:19.617Z'))
    expect(script).toContain(
      "runuser -u postgres -- pgbackrest --config=/var/lib/ctl-lab/h4/pgbackrest/pgbackrest.conf --stanza=ctl-lab --pg1-path=/var/tmp/ctl-pitr-ctl-lab-20261206T032229/data --reset-pg1-host --job-retry=0 --type=time '--target=2026-12-06 03:18:19.617+00' --target-action=promote --archive-mode=off --set=20261206-031811F restore > /var/tmp/ctl-pitr-ctl-lab-20261206T032229/restore.log 2>&1 || { tail -n 3 /var/tmp/ctl-pitr-ctl-lab-20261206T032229/restore.log >&2; exit 5; }",
    )
    expect(script).toContain('-c archive_mode=off')
    expect(script).toContain("-c listen_addresses='\\'''\\''")
    expect(script).toContain('-c hba_file=/var/tmp/ctl-pitr-ctl-lab-20261206T032229/pg_hba.conf')
    // An existing directory is never reused (it may be someone's restore in progress).
    expect(script).toContain('[ ! -e /var/tmp/ctl-pitr-ctl-lab-20261206T032229 ] || {')
    expect(script).toContain('= f ]')
  })

  it('quotes a scratch directory with shell metacharacters everywhere, messages included', () => {
    const odd = {...x, dir: '/var/tmp/a "$(reboot)" b'}
    const script = renderCommand(pitrRestoreCommand(s, odd, '20261206-031811F', 'latest'))
    expect(script).toContain(`echo '/var/tmp/a "$(reboot)" b exists already' >&2`)
    // Outside single-quoted words the shell would run it (pg_ctl's -o is quoted twice, for its own sh: not checked here).
    const outside = script
      .split('\n')
      .filter((l) => !l.includes(' -o '))
      .map((l) => l.replace(/'[^']*'/g, ''))
    expect(outside.filter((l) => l.includes('$(reboot)'))).toEqual([])
  })

  it("restores everything archived for 'latest' (no target: recovery ends with the archive)", () => {
    const script = renderCommand(pitrRestoreCommand(s, x, '20261206-031811F', 'latest'))
    expect(script).toContain('--reset-pg1-host --job-retry=0 --archive-mode=off --set=20261206-031811F restore')
    expect(script).not.toContain('--type=time')
    expect(pgPitr.setup({loaded, options: {at: 'latest'}})).toMatchObject({target: 'latest'})
  })

  it('counts every table of every database and removes the server with the cleanup command', () => {
    expect(renderCommand(scratchRowCountsCommand(s, x))).toContain('datallowconn and not datistemplate')
    expect(renderCommand(scratchCleanupCommand(s, x))).toBe(
      'runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D /var/tmp/ctl-pitr-ctl-lab-20261206T032229/data -m fast -w stop; rm -rf /var/tmp/ctl-pitr-ctl-lab-20261206T032229',
    )
  })

  it('drills a pgBackRest backup to its own consistent point, tagged like the other drills, removing everything however it ends', () => {
    const script = renderCommand(
      pgbackrestDrillCommand(
        {
          node: 'h3',
          config: '/etc/pgbackrest.conf',
          stanza: 'pg',
          osUser: 'postgres',
          label: '20261201-000000F',
          pgVersion: '15',
          scratchDir: '/var/tmp',
          scratchPort: 55432,
        },
        '20261206T000000',
      ),
    ).split('\n')
    expect(script).toContain('trap cleanup EXIT')
    const restore = script.findIndex((l) => l.includes(' restore > '))
    expect(script[restore]).toContain('--type=immediate --target-action=promote --archive-mode=off --set=20261201-000000F restore')
    expect(script[restore]).toContain("printf 'integrity\\tfail\\t%s\\n'")
    // integrity is declared only after pgBackRest restored (and checked) every file; start after recovery ended.
    expect(script[restore + 1]).toBe("printf 'integrity\\tok\\n'")
    expect(script.indexOf("printf 'start\\tok\\n'")).toBeGreaterThan(script.findIndex((l) => l.startsWith('i=0; until')))
    expect(script.at(-1)).toBe("printf 'done\\n'")
    // An existing directory is another drill's: refused before the cleanup trap is set.
    expect(script.findIndex((l) => l.includes('exists already'))).toBeLessThan(script.indexOf('trap cleanup EXIT'))
  })

  it('copies a database out of the scratch server into a new one on the leader, both exit statuses checked', () => {
    const script = renderCommand(copyFromScratchCommand(s, x, 'app', {host: '198.18.0.11', port: 5432, user: 'postgres', database: 'app_before'}))
    expect(script).toMatch(/^IFS= read -r p;/)
    expect(script).toContain(
      '{ runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_dump -Fc -h /var/tmp/ctl-pitr-ctl-lab-20261206T032229 -p 55432 -d dbname=app; echo $? > /var/tmp/ctl-pitr-ctl-lab-20261206T032229/copy-dump.rc; } | pg_restore -h 198.18.0.11 -p 5432 -U postgres -d dbname=app_before --no-owner --exit-on-error;',
    )
    expect(script).toMatch(/\[ "\$\(cat \S+copy-dump\.rc\)" = 0 \] && \[ "\$rc" = 0 \]$/)
    expect(parseRowCounts('public.writes|12\n"odd|name".t|3\nnoise\n')).toEqual({'public.writes': 12, '"odd|name".t': 3})
  })

  it('refuses a time it cannot read before anything runs', () => {
    expect(() => pgPitr.setup({loaded, options: {at: 'now'}})).toThrow(/--at needs a time/)
    expect(pgPitr.setup({loaded, options: {at: '2026-12-01T10:42:00Z'}})).toMatchObject({target: '2026-12-01T10:42:00.000Z', requested: '2026-12-01T10:42:00Z'})
    expect(() => pgPitr.setup({loaded, options: {at: '2026-12-01T10:42:00Z', into: 'host=evil dbname=x'}})).toThrow(/--into/)
    expect(pgPitr.setup({loaded, options: {at: '2026-12-01T10:42:00Z', db: 'app', into: 'app_old'}}).copy).toEqual({source: 'app', into: 'app_old'})
  })
})
