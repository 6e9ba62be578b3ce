import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {loadInventory} from '../../../src/inventory/load.js'
import {
  archivingChanges,
  archivingConfigPatch,
  pgbackrestCommand,
  pgbackrestSettings,
  renderNodeConfigs,
  writeConfigCommand,
  type MemberLayout,
} from '../../../src/patroni/pgbackrest-config.js'
import {renderCommand} from '../../../src/lib/shell.js'

const loaded = loadInventory(join(import.meta.dirname, '..', '..', '..', 'inventories', 'lab.yml'))
/** The lab keeps its repository on the backup host h4, outside the cluster. */
const lab = pgbackrestSettings(loaded)
/** The same cluster with its repository on a member (h3), the other layout pgBackRest allows. */
const onMember = (() => {
  const patroni = loaded.inventory.databases.patroni!
  const pgbackrest = {...patroni.pgbackrest!, repoNode: 'h3', repoPath: '/var/lib/ctl-lab/h3/pgbackrest/repo'}
  return {...loaded, inventory: {...loaded.inventory, databases: {...loaded.inventory.databases, patroni: {...patroni, pgbackrest}}}}
})()
const s = pgbackrestSettings(onMember)
const layout = (i: number): MemberLayout => ({
  member: `pg-h${i}`,
  node: `h${i}`,
  address: `198.18.0.1${i}`,
  dataDir: `/var/lib/ctl-lab/h${i}/patroni/data`,
  socketDir: `/run/ctl-lab/h${i}/postgresql`,
  port: 5432,
})
const members = [1, 2, 3].map(layout)

describe('pgBackRest settings from the inventory', () => {
  it('reads the lab section: stanza = scope, per-node paths, repository address', () => {
    expect(lab).toMatchObject({stanza: 'ctl-lab', repoNode: 'h4', repoAddress: '198.18.0.14', encrypted: true, retentionFull: 2, osUser: 'postgres'})
    expect(s).toMatchObject({repoNode: 'h3', repoAddress: '198.18.0.13'})
    expect(s.configPath('h1')).toBe('/var/lib/ctl-lab/h1/pgbackrest/pgbackrest.conf')
    expect(s.lockPath('h2')).toBe('/var/lib/ctl-lab/h2/pgbackrest/lock')
  })

  it('refuses an inventory without the section, naming what to add', () => {
    const bare = {
      ...loaded,
      inventory: {...loaded.inventory, databases: {...loaded.inventory.databases, patroni: {...loaded.inventory.databases.patroni!, pgbackrest: undefined}}},
    }
    expect(() => pgbackrestSettings(bare)).toThrow(/no databases.patroni.pgbackrest section/)
  })
})

describe('pgBackRest configs', () => {
  const configs = renderNodeConfigs(s, members, {cipherPass: 'k3y', s3Key: 'AK1D', s3Secret: 's3cr3t', offsiteCipherPass: '0ffs1te'})

  it('gives the repository node the repository, the key and every member, its own member first and local', () => {
    const repo = configs[0]!
    expect(repo.node).toBe('h3')
    const lines = repo.text.split('\n')
    expect(lines).toEqual(
      expect.arrayContaining([
        'repo1-path=/var/lib/ctl-lab/h3/pgbackrest/repo',
        'repo1-cipher-type=aes-256-cbc',
        'repo1-cipher-pass=k3y',
        'repo1-retention-full=2',
        '[ctl-lab]',
      ]),
    )
    const pg1 = lines.filter((l) => l.startsWith('pg1-'))
    expect(pg1).toEqual(['pg1-path=/var/lib/ctl-lab/h3/patroni/data', 'pg1-socket-path=/run/ctl-lab/h3/postgresql', 'pg1-port=5432'])
    expect(lines).toEqual(
      expect.arrayContaining([
        'pg2-host=198.18.0.11',
        'pg2-host-user=postgres',
        'pg2-host-config=/var/lib/ctl-lab/h1/pgbackrest/pgbackrest.conf',
        'pg3-host=198.18.0.12',
      ]),
    )
  })

  it("gives each other member its own server, the repository host (never that repository's key) and the offsite repository it pushes WAL to", () => {
    const h1 = configs.find((c) => c.node === 'h1')!.text
    expect(h1).toContain('repo1-host=198.18.0.13\nrepo1-host-user=postgres\nrepo1-host-config=/var/lib/ctl-lab/h3/pgbackrest/pgbackrest.conf')
    expect(h1).toContain('pg1-path=/var/lib/ctl-lab/h1/patroni/data')
    expect(h1).not.toMatch(/repo1-cipher|k3y|pg2-/)
    expect(h1).toContain('repo2-cipher-pass=0ffs1te')
    expect(configs.map((c) => c.node)).toEqual(['h3', 'h1', 'h2'])
  })

  it('puts the offsite repository (repo2) in S3 on every node: path-style, TLS verified with the CA, always encrypted, its own retention', () => {
    for (const {text} of configs) {
      const lines = text.split('\n')
      expect(lines).toEqual(
        expect.arrayContaining([
          'repo2-type=s3',
          'repo2-path=/pgbackrest',
          'repo2-s3-bucket=ctl-backups',
          'repo2-s3-endpoint=198.18.0.1',
          'repo2-s3-uri-style=path',
          'repo2-storage-port=9000',
          'repo2-storage-ca-file=/var/lib/ctl-lab/offsite/ca.crt',
          'repo2-s3-key=AK1D',
          'repo2-s3-key-secret=s3cr3t',
          'repo2-cipher-type=aes-256-cbc',
          'repo2-cipher-pass=0ffs1te',
          'repo2-retention-full=2',
        ]),
      )
      expect(lines.some((l) => l.startsWith('repo2-storage-verify-tls'))).toBe(false)
    }
  })

  it('has no repo2 without backups.offsite', () => {
    const bare = pgbackrestSettings({...loaded, inventory: {...loaded.inventory, backups: {...loaded.inventory.backups, offsite: undefined}}})
    expect(renderNodeConfigs(bare, members).every((c) => !c.text.includes('repo2'))).toBe(true)
  })

  it('on a backup host of its own (the lab: h4), the repository reaches every member over SSH, none local; each member pushes to it', () => {
    const [repo, ...others] = renderNodeConfigs(lab, members, {cipherPass: 'k3y'})
    expect(repo!.node).toBe('h4')
    const lines = repo!.text.split('\n')
    expect(lines).toEqual(expect.arrayContaining(['repo1-path=/var/lib/ctl-lab/h4/pgbackrest/repo', 'repo1-cipher-pass=k3y']))
    for (const [i, m] of members.entries()) expect(lines).toContain(`pg${i + 1}-host=${m.address}`)
    expect(lines.filter((l) => /^pg\d+-host=/.test(l))).toHaveLength(3)
    expect(others.map((c) => c.node)).toEqual(['h1', 'h2', 'h3'])
    for (const c of others) {
      expect(c.text).toContain('repo1-host=198.18.0.14')
      expect(c.text).not.toContain('k3y')
    }
    expect(renderCommand(writeConfigCommand(lab, 'h4'))).toContain('/var/lib/ctl-lab/h4/pgbackrest/repo')
  })

  it('shows a placeholder, not the key, when rendered for a plan', () => {
    const plan = renderNodeConfigs(s, members)[0]!.text
    expect(plan).toContain('repo1-cipher-pass=<cipherPass>')
    expect(plan).toContain('repo2-s3-key-secret=<s3 secretAccessKey>')
    expect(plan).toContain('repo2-cipher-pass=<offsite encryptionKey>')
  })

  it('writes a config from stdin, owner-only, replaced in one rename; makes the repository directory on its node only', () => {
    const h3 = renderCommand(writeConfigCommand(s, 'h3'))
    expect(h3).toContain(
      'install -d -m 750 -o postgres -g postgres /var/lib/ctl-lab/h3/pgbackrest /var/lib/ctl-lab/h3/pgbackrest/log /var/lib/ctl-lab/h3/pgbackrest/lock /var/lib/ctl-lab/h3/pgbackrest/repo',
    )
    expect(h3).toContain('umask 077 && cat > /var/lib/ctl-lab/h3/pgbackrest/pgbackrest.conf.ctl-new')
    expect(h3).toMatch(/mv \S+\.ctl-new \/var\/lib\/ctl-lab\/h3\/pgbackrest\/pgbackrest\.conf$/)
    expect(renderCommand(writeConfigCommand(s, 'h1'))).not.toContain('/repo')
  })

  it('quotes paths with shell metacharacters', () => {
    const odd = {...s, configPath: () => "/etc/pg br'st/x.conf"}
    expect(renderCommand(writeConfigCommand(odd, 'h1'))).toContain("'/etc/pg br'\\''st/x.conf.ctl-new'")
  })
})

describe('archiving through Patroni', () => {
  it('wants archive_mode, a pgbackrest archive_command without --config, and archive_timeout', () => {
    expect(archivingChanges(s, {})).toEqual({
      archive_mode: 'on',
      archive_command: 'pgbackrest --stanza=ctl-lab archive-push "%p"',
      archive_timeout: '10',
      restore_command: 'pgbackrest --stanza=ctl-lab archive-get %f "%p"',
    })
  })

  it('changes only what differs (Patroni may report numbers as numbers); restore_command is read from and written to recovery_conf', () => {
    const restore = {restore_command: 'pgbackrest --stanza=ctl-lab archive-get %f "%p"'}
    expect(archivingChanges(s, {archive_mode: 'on', archive_command: 'pgbackrest --stanza=ctl-lab archive-push "%p"', archive_timeout: 10}, restore)).toEqual(
      {},
    )
    expect(archivingChanges(s, {archive_mode: 'on', archive_command: '/bin/true', archive_timeout: 10}, restore)).toEqual({
      archive_command: 'pgbackrest --stanza=ctl-lab archive-push "%p"',
    })
    // In parameters it does not count: Patroni takes recovery settings from recovery_conf.
    const inParameters = archivingChanges(s, {
      archive_mode: 'on',
      archive_command: 'pgbackrest --stanza=ctl-lab archive-push "%p"',
      archive_timeout: 10,
      ...restore,
    })
    expect(inParameters).toEqual(restore)
    expect(archivingConfigPatch({archive_mode: 'on', ...restore})).toEqual({postgresql: {parameters: {archive_mode: 'on'}, recovery_conf: restore}})
    expect(archivingConfigPatch(restore)).toEqual({postgresql: {recovery_conf: restore}})
  })

  it('runs pgbackrest as the PostgreSQL user with the node’s config', () => {
    expect(pgbackrestCommand(s, 'h1', 'check')).toEqual([
      'runuser',
      '-u',
      'postgres',
      '--',
      'pgbackrest',
      '--config=/var/lib/ctl-lab/h1/pgbackrest/pgbackrest.conf',
      '--stanza=ctl-lab',
      'check',
    ])
  })
})
