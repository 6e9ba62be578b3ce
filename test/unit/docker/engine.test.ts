import {describe, expect, it} from 'vitest'
import {dockerCli, dockerSocket, engineMessage} from '../../../src/docker/index.js'
import {shellCommand} from '../../../src/lib/shell.js'
import {swarmInitRequest, swarmJoinRequest} from '../../../src/swarm/bootstrap-run.js'
import {inventoryOf} from '../swarm/fixtures.js'

describe('docker access', () => {
  const [plain] = inventoryOf(['a:manager']).nodes
  const lab = {...plain!, docker: {socket: '/run/ctl-lab/h1/docker.sock'}}

  it('addresses the node’s engine socket on the CLI', () => {
    expect(dockerSocket(plain!)).toBe('/var/run/docker.sock')
    expect(shellCommand(dockerCli(lab, ['stack', 'deploy', '-c', '/tmp/my stack.yml', 'infra']))).toBe(
      "docker -H unix:///run/ctl-lab/h1/docker.sock stack deploy -c '/tmp/my stack.yml' infra",
    )
  })

  it('keeps the Engine’s own words from an API error', () => {
    const error = Object.assign(new Error('(HTTP code 503) unexpected - This node is not a swarm manager.'), {
      statusCode: 503,
      json: {message: 'This node is not a swarm manager. Use "docker swarm init"'},
    })
    expect(engineMessage(error)).toBe('This node is not a swarm manager. Use "docker swarm init"')
    expect(engineMessage(new Error('(HTTP code 500) server error - boom'))).toBe('boom')
  })
})

describe('swarm init and join requests', () => {
  it('init advertises the inventory address and passes the address pool', () => {
    expect(swarmInitRequest({kind: 'init', node: 'h1', advertiseAddress: '198.18.0.11', defaultAddrPool: '198.19.64.0/18'})).toEqual({
      ListenAddr: '0.0.0.0:2377',
      AdvertiseAddr: '198.18.0.11',
      DefaultAddrPool: ['198.19.64.0/18'],
      SubnetSize: 24,
    })
    expect(swarmInitRequest({kind: 'init', node: 'h1', advertiseAddress: '10.0.0.1'})).toEqual({ListenAddr: '0.0.0.0:2377', AdvertiseAddr: '10.0.0.1'})
  })

  it('join carries the token in the body and the leader address', () => {
    expect(
      swarmJoinRequest(
        {kind: 'join', node: 'h2', role: 'worker', advertiseAddress: '198.18.0.12', via: 'h1', remoteAddress: '198.18.0.11:2377'},
        'SWMTKN-1-abc',
      ),
    ).toEqual({
      ListenAddr: '0.0.0.0:2377',
      AdvertiseAddr: '198.18.0.12',
      RemoteAddrs: ['198.18.0.11:2377'],
      JoinToken: 'SWMTKN-1-abc',
    })
  })
})
