import {execa} from 'execa'
import {existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {beforeAll, describe, expect, it} from 'vitest'
import {json, runCtl} from '../support/cli.js'
import {amqp, RABBIT_ADDRESS, rabbitmqctl as labRabbitmqctl} from './support/rabbitmq.js'
import {labInventoryCopy} from './support/swarm.js'

// RabbitMQ backups on the lab: rabbitmq-backup exports the cluster's definitions on the backup host
// (h4) and counts them by importing them into a scratch broker; ctl backup verify drills them the same
// way (a changed file fails); rabbitmq-restore brings a deleted vhost, user, policy and durable queue
// back, and refuses a file that no longer matches its record. A backup directory of its own.

const DIR = '/var/lib/ctl-lab/h4/rabbitmq-backups-test'
const ADDRESS = RABBIT_ADDRESS
const VHOST = 'ctl-backup-vh'
const QUEUE = 'ctl-backup-q'

/** rabbitmqctl -q on a lab node; its output, or an error. */
async function rabbitmqctl(host: string, ...args: string[]): Promise<string> {
  const r = await labRabbitmqctl(host, '-q', ...args)
  if (r.exitCode !== 0) throw new Error(`rabbitmqctl ${args.join(' ')}: ${r.stderr}`)
  return String(r.stdout)
}
const amqpPublish = (queue: string, n: number) => amqp('publish', ADDRESS.h1!, queue, String(n))
/** Whether a queue of vhost / exists (not list_queues: it waits 60 s for any queue member that does not answer). */
const queueExists = async (queue: string) =>
  (
    await rabbitmqctl('h3', 'eval', `case rabbit_amqqueue:lookup(rabbit_misc:r(<<"/">>, queue, <<"${queue}">>)) of {ok, _} -> present; _ -> absent end.`)
  ).trim() === 'present'
const names = (text: string) => text.split('\n').map((l) => l.split('\t')[0]!.trim())
const backups = () => (existsSync(DIR) ? readdirSync(DIR).filter((f) => f.endsWith('.definitions.json')) : [])

const inventory = () =>
  labInventoryCopy((inv) => {
    inv.databases.rabbitmq.backupDir = DIR
    for (const db of ['galera', 'patroni', 'etcd', 'redis']) delete inv.databases[db]
    inv.backups = {}
  })

describe('RabbitMQ backups (lab)', () => {
  let inv = ''
  let path = ''

  beforeAll(async () => {
    rmSync(DIR, {recursive: true, force: true})
    const up = await runCtl(['lab', 'up', '--only', 'rabbitmq', '--json'], {timeoutMs: 600_000})
    expect(up.exitCode, up.stderr).toBe(0)
    inv = inventory()
    if (names(await rabbitmqctl('h1', 'list_vhosts')).includes(VHOST)) await rabbitmqctl('h1', 'delete_vhost', VHOST)
    await rabbitmqctl('h1', 'add_vhost', VHOST)
    if (names(await rabbitmqctl('h1', 'list_users')).includes('ctl-backup-user')) await rabbitmqctl('h1', 'delete_user', 'ctl-backup-user')
    await rabbitmqctl('h1', 'add_user', 'ctl-backup-user', 'Backup-Pw-1')
    await rabbitmqctl('h1', 'set_permissions', '-p', VHOST, 'ctl-backup-user', '.*', '.*', '.*')
    await rabbitmqctl('h1', 'set_policy', '-p', VHOST, 'ctl-ttl', '^ttl\\.', '{"message-ttl":60000}', '--apply-to', 'queues')
    await amqpPublish(QUEUE, 5)
  })

  it('rabbitmq-backup exports the definitions on h4, counts them in a scratch broker, records them; the password hashes stay there', async () => {
    const run = await runCtl(['runbook', 'rabbitmq-backup', inv, '--yes', '--json'], {timeoutMs: 300_000})
    expect(run.exitCode, run.stderr).toBe(0)
    const summary = json(run).summary
    path = summary.path
    expect(path).toMatch(new RegExp(`^${DIR}/\\d{8}T\\d{6}\\.definitions\\.json$`))
    expect(summary.record.rowCounts.queues).toBeGreaterThanOrEqual(1)
    expect(summary.record.rowCounts.policies).toBeGreaterThanOrEqual(1)
    expect(summary.record.rowCounts.vhosts).toBeGreaterThanOrEqual(2)
    const definitions = JSON.parse(readFileSync(path, 'utf8'))
    expect(definitions.queues.map((q: any) => q.name)).toContain(QUEUE)
    expect(definitions.users.map((u: any) => u.name)).toContain('ctl-backup-user')
    expect(statSync(path).mode & 0o777).toBe(0o600)
    // The definitions (with the users' password hashes) went from the cluster to h4, never through ctl.
    expect(run.stdout).not.toContain('password_hash')
    // The scratch broker is gone: no scratch directory, no drill node.
    expect(readdirSync('/var/tmp').filter((f) => f.startsWith('ctl-rabbitmq-'))).toEqual([])
    expect((await execa('pgrep', ['-f', 'ctldrill'], {reject: false})).exitCode).toBe(1)
  })

  it('backup verify imports it into a scratch broker and finds the recorded counts; the backups check passes', async () => {
    const verify = await runCtl(['backup', 'verify', inv, '--database', 'rabbitmq', '--json'], {timeoutMs: 300_000})
    expect(verify.exitCode, verify.stderr).toBe(0)
    expect(json(verify).results[0].record).toMatchObject({outcome: 'passed', counts: 'matched'})
    const check = json(await runCtl(['check', 'run', inv, 'backups', '--json']))
    expect(check.results.find((r: any) => r.target === 'rabbitmq')).toMatchObject({status: 'pass'})
  })

  it('rabbitmq-restore brings back a deleted vhost (its policy and permissions), user and durable queue; asks first', async () => {
    await rabbitmqctl('h2', 'delete_vhost', VHOST)
    await rabbitmqctl('h2', 'delete_user', 'ctl-backup-user')
    await rabbitmqctl('h2', 'delete_queue', QUEUE)
    expect(names(await rabbitmqctl('h1', 'list_vhosts'))).not.toContain(VHOST)

    const dry = await runCtl(['runbook', 'rabbitmq-restore', inv, '--dry-run', '--json'])
    expect(dry.exitCode, dry.stderr).toBe(0)
    const refused = await runCtl(['runbook', 'rabbitmq-restore', inv])
    expect(refused.exitCode).toBe(2)
    expect(names(await rabbitmqctl('h1', 'list_vhosts'))).not.toContain(VHOST)

    const run = await runCtl(['runbook', 'rabbitmq-restore', inv, '--yes', '--json'], {timeoutMs: 300_000})
    expect(run.exitCode, run.stderr).toBe(0)
    expect(json(run).summary.path).toBe(path)
    expect(names(await rabbitmqctl('h3', 'list_vhosts'))).toContain(VHOST)
    expect(names(await rabbitmqctl('h3', 'list_users'))).toContain('ctl-backup-user')
    expect(names(await rabbitmqctl('h3', 'list_policies', '-p', VHOST))).toContain(VHOST)
    expect(await rabbitmqctl('h3', 'list_permissions', '-p', VHOST)).toContain('ctl-backup-user')
    expect(await queueExists(QUEUE)).toBe(true)
    // A client can use it (messages are not definitions: the 5 published before are gone with the deleted queue).
    expect(await amqp('count', ADDRESS.h2!, QUEUE)).toBe(0)
    // The restored user logs in with the password it had at backup time.
    expect(await rabbitmqctl('h1', 'authenticate_user', 'ctl-backup-user', 'Backup-Pw-1')).toMatch(/Success/)
  })

  it('a definitions file changed since its backup fails its drill and is refused by rabbitmq-restore, which changes nothing', async () => {
    const original = readFileSync(path, 'utf8')
    try {
      writeFileSync(path, original.replace(QUEUE, 'ctl-backup-X'))
      const verify = await runCtl(['backup', 'verify', inv, '--path', path, '--json'], {timeoutMs: 300_000})
      expect(verify.exitCode).toBe(1)
      expect(json(verify).results[0].record.problems[0]).toMatch(/^integrity failed: sha256/)
      const run = await runCtl(['runbook', 'rabbitmq-restore', inv, '--yes', '--json'])
      expect(run.exitCode).toBe(2)
      expect(json(run).error.code).toBe('backup.tampered')
      expect(await queueExists('ctl-backup-X')).toBe(false)
    } finally {
      writeFileSync(path, original)
    }
    expect(backups()).toHaveLength(1)
  })
})
