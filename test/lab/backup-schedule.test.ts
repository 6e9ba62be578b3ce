import {execa} from 'execa'
import {existsSync, readFileSync, rmSync, statSync} from 'node:fs'
import {setTimeout as sleep} from 'node:timers/promises'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {json, runCtl} from '../support/cli.js'
import {labInventoryCopy} from './support/swarm.js'

// ctl backup schedule on the lab: the inventory's schedule becomes cron files on the backup nodes
// (the pgBackRest repository's node, the backup host h4; the MariaDB backup node h3), idempotently,
// and the lab hosts' real cron runs them: a job every minute makes a new backup appear in the
// repository, and a MariaDB job a new backup on the backup node and offsite. An empty schedule
// removes the files.

const PG_CRON_FILE = '/var/lib/ctl-lab/h4/cron/cron.d/ctl-backups-lab-cron'
const CRON_FILE = '/var/lib/ctl-lab/h3/cron/cron.d/ctl-backups-lab-cron'
const JOB_SCRIPT = '/var/lib/ctl-lab/h3/cron/ctl-backups/mariadb-backup-lab-cron.sh'
const BINLOG_SCRIPT = '/var/lib/ctl-lab/h3/cron/ctl-backups/mariadb-binlogs-lab-cron.sh'
const SCHEDULE_LOG = '/var/lib/ctl-lab/h3/galera-backups/ctl-schedule.log'
const JOB_SECRETS = '/var/lib/ctl-lab/h3/cron/ctl-backups/mariadb-backup-lab-cron.secrets'
const inventory = (schedule: object[]) =>
  labInventoryCopy(
    (inv) => {
      inv.databases.patroni.pgbackrest.cipherPass = inv.databases.patroni.pgbackrest.cipherPass.replace('file:../', `file:${process.cwd()}/`)
      inv.backups.schedule = schedule
    },
    {name: 'lab-cron.yml'},
  )
const logged = () => (existsSync(SCHEDULE_LOG) ? readFileSync(SCHEDULE_LOG, 'utf8') : '')
// Where the MariaDB jobs' log stood before the schedule was installed: the jobs fire in the same minute.
let logStart = 0
const backupLabels = async (): Promise<string[]> =>
  json(await runCtl(['backup', 'list', 'lab', '--database', 'pgbackrest', '--json'])).restorePoints.map((p: {path: string}) => p.path)

describe('ctl backup schedule', () => {
  const everyMinute = inventory([
    {job: 'pgbackrest', type: 'incr', cron: '* * * * *'},
    {job: 'mariadb', cron: '* * * * *'},
    {job: 'mariadb-binlogs', cron: '* * * * *'},
  ])

  beforeAll(async () => {
    for (const file of [PG_CRON_FILE, CRON_FILE]) rmSync(file, {force: true})
    const setup = await runCtl(['runbook', 'pgbackrest-setup', 'lab', '--yes'])
    expect(setup.exitCode, setup.stderr).toBe(0)
    // A full backup first: the scheduled incremental ones build on it.
    expect((await runCtl(['runbook', 'pgbackrest-backup', 'lab', '--yes'])).exitCode).toBe(0)
  })

  afterAll(async () => {
    for (const file of [PG_CRON_FILE, CRON_FILE]) rmSync(file, {force: true})
    // A scheduled backup still running would hold the stanza's lock for the next test.
    for (
      let i = 0;
      i < 60 && (await execa('pgrep', ['-f', 'pgbackrest.*--type=incr.*backup|mariadb-(backup|binlogs)-lab-cron'], {reject: false})).exitCode === 0;
      i++
    )
      await sleep(1000)
  })

  it('shows the plan with --dry-run, refuses without --yes and no terminal, then installs the cron file; a second run changes nothing', async () => {
    const dry = json(await runCtl(['backup', 'schedule', everyMinute, '--dry-run', '--json']))
    expect(dry.files).toEqual([
      {node: 'h4', path: PG_CRON_FILE, action: 'install', jobs: ['* * * * *: pgbackrest incr backup']},
      {node: 'h3', path: CRON_FILE, action: 'install', jobs: ['* * * * *: mariabackup backup', '* * * * *: binary-log archive']},
    ])
    const refused = await runCtl(['backup', 'schedule', everyMinute])
    expect(refused.exitCode).toBe(2)
    expect(existsSync(CRON_FILE) || existsSync(PG_CRON_FILE)).toBe(false)

    logStart = logged().length
    const run = await runCtl(['backup', 'schedule', everyMinute, '--yes', '--json'])
    expect(run.exitCode, run.stderr).toBe(0)
    expect(json(run).changed).toEqual([`h4:${PG_CRON_FILE}`, `h3:${CRON_FILE}`])
    expect(readFileSync(PG_CRON_FILE, 'utf8')).toContain(
      '* * * * * postgres pgbackrest --config=/var/lib/ctl-lab/h4/pgbackrest/pgbackrest.conf --stanza=ctl-lab --type=incr --backup-standby backup >> /var/lib/ctl-lab/h4/pgbackrest/log/ctl-schedule.log 2>&1',
    )
    const text = readFileSync(CRON_FILE, 'utf8')
    // cron ignores a cron.d file that is not root's or is writable by others.
    for (const file of [PG_CRON_FILE, CRON_FILE]) expect(statSync(file).mode & 0o777).toBe(0o644)
    // The MariaDB job: its script (0700) run as root, its secrets beside it (0600), never in the cron file or the script.
    expect(text).toContain(`* * * * * root ${JOB_SCRIPT} >> /var/lib/ctl-lab/h3/galera-backups/ctl-schedule.log 2>&1`)
    expect(statSync(JOB_SCRIPT).mode & 0o777).toBe(0o700)
    expect(statSync(JOB_SECRETS).mode & 0o777).toBe(0o600)
    const password = readFileSync('.lab/galera-password', 'utf8').trim()
    expect(readFileSync(JOB_SECRETS, 'utf8').split('\n')[0]).toBe(password)
    for (const file of [CRON_FILE, JOB_SCRIPT]) expect(readFileSync(file, 'utf8')).not.toContain(password)
    const again = json(await runCtl(['backup', 'schedule', everyMinute, '--yes', '--json']))
    expect(again.files.map((f: {action: string}) => f.action)).toEqual(['unchanged', 'unchanged'])
    expect(again.changed).toEqual([])
  })

  it("fires: the lab host's cron runs the job and a new backup appears in the repository", async () => {
    const before = await backupLabels()
    let after = before
    for (let i = 0; i < 30 && after.length <= before.length; i++) {
      await sleep(5000)
      after = await backupLabels()
    }
    expect(after.filter((p) => !before.includes(p)).some((p) => p.endsWith('I'))).toBe(true)
  }, 200_000)

  it('fires the MariaDB job too: a complete backup appears on the backup node, and its copy offsite', async () => {
    const list = async () =>
      json(await runCtl(['backup', 'list', 'lab', '--database', 'mariadb', '--json'])).restorePoints as {
        series: string
        path: string
        complete: boolean
        checksum?: string
      }[]
    const before = (await list()).map((p) => p.path)
    let fresh: {series: string; path: string; complete: boolean; checksum?: string}[] = []
    for (let i = 0; i < 30 && !(fresh.some((p) => p.series === 'mariadb') && fresh.some((p) => p.series === 'mariadb@offsite')); i++) {
      await sleep(5000)
      fresh = (await list()).filter((p) => !before.includes(p.path))
    }
    const local = fresh.find((p) => p.series === 'mariadb')
    expect(local, readFileSync('/var/lib/ctl-lab/h3/galera-backups/ctl-schedule.log', 'utf8').slice(-2000)).toMatchObject({complete: true})
    // The same backup, shipped: same manifest checksum.
    expect(fresh.find((p) => p.series === 'mariadb@offsite')?.checksum).toBe(local!.checksum)
  }, 200_000)

  it("fires the binary-log archive job: the backup node's closed binary logs into the archive and offsite", async () => {
    const start = logStart
    for (let i = 0; i < 30 && !logged().slice(start).includes('archive shipped to'); i++) await sleep(5000)
    const lines = logged().slice(start)
    expect(lines, lines.slice(-2000)).toMatch(/binary logs of h3 archived: /)
    expect(lines).toContain('archive shipped to s3://ctl-backups/restic/mariadb')
    // What the job archived is what a point-in-time restore from offsite reads.
    const listed = await execa('ls', ['/var/lib/ctl-lab/h3/galera-backups/.ctl-binlogs/h3'])
    expect(listed.stdout).toMatch(/mariadb-bin\.\d{6}/)
  }, 200_000)

  it('an empty schedule removes the file', async () => {
    const run = await runCtl(['backup', 'schedule', inventory([]), '--yes', '--json'])
    expect(run.exitCode, run.stderr).toBe(0)
    expect(json(run).files.map((f: {action: string}) => f.action)).toEqual(['remove', 'remove'])
    expect(existsSync(CRON_FILE) || existsSync(PG_CRON_FILE)).toBe(false)
    expect(existsSync(JOB_SCRIPT) || existsSync(BINLOG_SCRIPT) || existsSync(JOB_SECRETS)).toBe(false)
  })
})
