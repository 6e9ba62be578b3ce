import {describe, expect, it} from 'vitest'
import {stackDeployArgv, stackUploadDir} from '../../../src/deploy/docker.js'
import {registryLoginDir} from '../../../src/registry/login.js'
import {healthUrl} from '../../../src/deploy/health-url.js'
import {shellCommand} from '../../../src/lib/shell.js'
import {testInventory} from './fixtures.js'

const inventory = testInventory()
const manager = inventory.nodes[0]!

describe('docker commands of a deploy', () => {
  it('builds the exact command lines', () => {
    expect(shellCommand(stackDeployArgv(manager, 'web', ['/var/lib/ctl/stacks/t/web/0-web.yml', '/var/lib/ctl/stacks/t/web/1-ctl-override.yml']))).toBe(
      'docker -H unix:///run/d.sock stack deploy -c /var/lib/ctl/stacks/t/web/0-web.yml -c /var/lib/ctl/stacks/t/web/1-ctl-override.yml --with-registry-auth --resolve-image never --detach=true web',
    )
    // Logged in for the job: the private config directory goes before the subcommand.
    expect(shellCommand(stackDeployArgv(manager, 'web', ['/s/0-web.yml'], '/tmp/ctl-docker-config.AbC123'))).toBe(
      'docker -H unix:///run/d.sock --config /tmp/ctl-docker-config.AbC123 stack deploy -c /s/0-web.yml --with-registry-auth --resolve-image never --detach=true web',
    )
    expect(stackUploadDir('/var/lib/ctl/locks', 't', 'web')).toBe('/var/lib/ctl/stacks/t/web')
    expect(registryLoginDir('/var/lib/ctl/locks/', 't')).toBe('/var/lib/ctl/registry-login/t')
    expect(registryLoginDir('/locks', 'prod')).toBe('/registry-login/prod')
  })

  it('asks /health at the task, at the host, or through the load balancer', () => {
    const [app, legacy] = inventory.services
    expect(healthUrl(inventory, app!, '10.0.0.2')).toBe('http://10.0.0.2:8080/health')
    expect(healthUrl(inventory, app!, 'fd00::2')).toBe('http://[fd00::2]:8080/health')
    expect(healthUrl(inventory, app!, undefined)).toBeUndefined()
    expect(healthUrl(inventory, legacy!, '10.0.0.3')).toBe('http://10.0.0.3:5000/health')
    const viaLb = {...app!, health: {...app!.health!, via: 'loadBalancer' as const}}
    expect(healthUrl(inventory, viaLb, '10.0.0.2')).toBe('http://lb.example:80/health')
  })
})
