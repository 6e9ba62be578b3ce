import {describe, expect, it} from 'vitest'
import {toEngineFacts, toService, toSwarmNode, toTask} from '../../../src/swarm/views.js'

// Raw objects as the lab's Engine 20.10 returned them (trimmed to the fields ctl reads).
const rawManager = {
  ID: 'nk83rsbj7ft3h7ekktrdh2n3c',
  Version: {Index: 9},
  Spec: {Labels: {type: 'service'}, Role: 'manager', Availability: 'active'},
  Description: {Hostname: 'h1', Engine: {EngineVersion: '20.10.24+dfsg1'}},
  Status: {State: 'ready', Addr: '198.18.0.11'},
  ManagerStatus: {Leader: true, Reachability: 'reachable', Addr: '198.18.0.11:2377'},
}

describe('views of Engine API objects', () => {
  it('reads a swarm node, keeping its spec and version for updates', () => {
    expect(toSwarmNode(rawManager)).toEqual({
      id: 'nk83rsbj7ft3h7ekktrdh2n3c',
      hostname: 'h1',
      address: '198.18.0.11',
      managerAddress: '198.18.0.11:2377',
      role: 'manager',
      availability: 'active',
      state: 'ready',
      leader: true,
      reachability: 'reachable',
      engineVersion: '20.10.24+dfsg1',
      labels: {type: 'service'},
      version: 9,
      spec: rawManager.Spec,
    })
    const worker = toSwarmNode({ID: 'w', Version: {Index: 3}, Spec: {Role: 'worker', Availability: 'drain'}, Status: {State: 'down', Addr: '10.0.0.2'}})
    expect(worker).toMatchObject({role: 'worker', availability: 'drain', state: 'down', leader: false, labels: {}, managerAddress: undefined})
  })

  it('reads a service: mode, replicas, constraints and host-mode ports only', () => {
    const raw = {
      ID: 's1',
      Spec: {
        Name: 'infra_patroni',
        Mode: {Replicated: {Replicas: 3}},
        TaskTemplate: {Placement: {Constraints: ['node.labels.type == db'], MaxReplicas: 1}},
        EndpointSpec: {
          Ports: [
            {Protocol: 'tcp', TargetPort: 5432, PublishedPort: 5432, PublishMode: 'host'},
            {Protocol: 'tcp', TargetPort: 8008, PublishedPort: 8008, PublishMode: 'ingress'},
          ],
        },
      },
    }
    expect(toService(raw)).toEqual({
      id: 's1',
      name: 'infra_patroni',
      mode: 'replicated',
      replicas: 3,
      constraints: ['node.labels.type == db'],
      maxReplicasPerNode: 1,
      hostPorts: [5432],
    })
    expect(toService({ID: 'g', Spec: {Name: 'agent', Mode: {Global: {}}}})).toMatchObject({mode: 'global', replicas: undefined, constraints: [], hostPorts: []})
  })

  it('reads a task, with the scheduler error of an unplaceable one', () => {
    const raw = {
      ID: 't1',
      ServiceID: 's1',
      Slot: 1,
      DesiredState: 'running',
      Status: {State: 'pending', Message: 'pending task scheduling', Err: 'no suitable node (scheduling constraints not satisfied on 3 nodes)'},
    }
    expect(toTask(raw)).toEqual({
      id: 't1',
      serviceId: 's1',
      nodeId: undefined,
      slot: 1,
      desiredState: 'running',
      state: 'pending',
      error: 'no suitable node (scheduling constraints not satisfied on 3 nodes)',
      message: 'pending task scheduling',
      createdAt: undefined,
    })
  })

  it("reads an engine's own swarm state", () => {
    const info = {
      ServerVersion: '20.10.24+dfsg1',
      OperatingSystem: 'Debian GNU/Linux 12 (bookworm)',
      Swarm: {
        NodeID: 'n2',
        NodeAddr: '198.18.0.12',
        LocalNodeState: 'active',
        ControlAvailable: false,
        Error: '',
        RemoteManagers: [{NodeID: 'n1', Addr: '198.18.0.11:2377'}],
      },
    }
    expect(toEngineFacts(info, {Version: '20.10.24+dfsg1'})).toEqual({
      version: '20.10.24+dfsg1',
      os: 'Debian GNU/Linux 12 (bookworm)',
      swarm: {
        state: 'active',
        nodeId: 'n2',
        nodeAddress: '198.18.0.12',
        isManager: false,
        clusterId: undefined,
        remoteManagers: [{nodeId: 'n1', address: '198.18.0.11:2377'}],
        error: undefined,
      },
    })
    expect(toEngineFacts({Swarm: {LocalNodeState: 'inactive', NodeID: ''}}).swarm).toMatchObject({state: 'inactive', nodeId: undefined, isManager: false})
  })
})
