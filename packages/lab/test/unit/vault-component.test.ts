import {describe, expect, it} from 'vitest'
import {realVaultConfig, vaultServerArgv} from '../../src/components/vault.js'

describe('lab vault servers', () => {
  it('runs the double from dist/ with the project Node when no vault binary is found', () => {
    const argv = vaultServerArgv({
      projectRoot: '/p',
      nodeId: 'h1',
      listenHost: '198.18.0.11',
      port: 8200,
      clusterPort: 8201,
      stateDir: '/s/h1/vault/data',
      configFile: '/s/h1/vault/vault.hcl',
    })
    expect(argv.slice(1)).toEqual([
      '/p/packages/lab/dist/vault-double/main.js',
      '--node-id',
      'h1',
      '--listen',
      '198.18.0.11:8200',
      '--cluster-addr',
      '198.18.0.11:8201',
      '--state-dir',
      '/s/h1/vault/data',
    ])
    expect(argv[0]).toBe(process.execPath)
  })

  it('runs `vault server -config` when a binary is on PATH', () => {
    expect(
      vaultServerArgv({
        vaultBinary: '/usr/bin/vault',
        projectRoot: '/p',
        nodeId: 'h1',
        listenHost: 'a',
        port: 1,
        clusterPort: 2,
        stateDir: 's',
        configFile: '/s/vault.hcl',
      }),
    ).toEqual(['/usr/bin/vault', 'server', '-config=/s/vault.hcl'])
  })

  it('configures a real server with Raft storage on the host address', () => {
    expect(realVaultConfig({nodeId: 'h2', listenHost: '198.18.0.12', port: 8200, clusterPort: 8201, dataDir: '/d'})).toBe(
      [
        'storage "raft" {',
        '  path    = "/d"',
        '  node_id = "h2"',
        '}',
        'listener "tcp" {',
        '  address         = "198.18.0.12:8200"',
        '  cluster_address = "198.18.0.12:8201"',
        '  tls_disable     = true',
        '}',
        'api_addr      = "http://198.18.0.12:8200"',
        'cluster_addr  = "https://198.18.0.12:8201"',
        'disable_mlock = true',
        'ui            = false',
        '',
      ].join('\n'),
    )
  })
})
