import {parseInventory} from '../../../src/inventory/load.js'
import type {Inventory} from '../../../src/inventory/schema/index.js'

/** A small inventory with one gated Swarm service on three service nodes and one db node. */
const inventoryText = `name: t
nodes:
  - {name: m1, address: 10.0.0.1, role: manager, labels: {type: service}, docker: {socket: /run/d.sock}}
  - {name: w1, address: 10.0.0.2, labels: {type: service}}
  - {name: w2, address: 10.0.0.3, labels: {type: service}}
  - {name: db, address: 10.0.0.4, labels: {type: db}}
stacks:
  - {name: web, files: [stacks/web.yml]}
services:
  - name: app
    stack: web
    health: {via: task, port: 8080, passForSeconds: 3, intervalMs: 500}
    rollout: {parallelism: 1, order: start-first, monitorSeconds: 4, failureAction: rollback}
  - name: legacy
    strategy: hosts
    hosts: [w1, w2]
    reloadCommand: [pm2, reload, app]
    health: {via: host, port: 5000}
loadBalancer: {url: 'http://lb.example:80'}
`

export function testInventory(text = inventoryText): Inventory {
  const {inventory, problems} = parseInventory(text, 't.yml')
  if (!inventory) throw new Error(JSON.stringify(problems))
  return inventory
}

export const webCompose = {
  version: '3.8',
  services: {
    app: {
      image: 'registry:5000/team/app:1.0',
      ports: [{target: 8080, published: 8080, mode: 'host'}],
      deploy: {replicas: 2, placement: {constraints: ['node.labels.type == service']}},
    },
    worker: {image: 'team/worker:1.0', deploy: {replicas: 1}},
  },
}
