import type {InventoryNode} from '../../inventory/schema/index.js'
import {readRabbitFacts} from '../../rabbitmq/access.js'
import {judgeRabbitmq} from '../../rabbitmq/judge.js'
import type {CheckDefinition} from '../types.js'

export const rabbitmqCheck: CheckDefinition = {
  id: 'rabbitmq',
  title: 'RabbitMQ: every node running and clustered, no network partition, no memory or disk alarm',
  needs: 'SSH, rabbitmqctl on each member; databases.rabbitmq',
  targets: (inventory) => (inventory.databases.rabbitmq ? [{name: 'rabbitmq'}] : []),
  skipReason: 'no databases.rabbitmq in the inventory',
  async run(ctx) {
    const node = (name: string) => ctx.inventory.nodes.find((n) => n.name === name) as InventoryNode
    const facts = await readRabbitFacts(ctx.loaded, async (name, command) => {
      if (!ctx.isReachable(node(name))) throw new Error(`${name} is unreachable over SSH`)
      return ctx.remote.run(node(name), command, {timeoutMs: ctx.timeoutMs, step: 'rabbitmqctl'})
    })
    return judgeRabbitmq(ctx.inventory.name, facts)
  },
}
