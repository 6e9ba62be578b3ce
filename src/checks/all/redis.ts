import type {InventoryNode} from '../../inventory/schema/index.js'
import {readRedisFacts} from '../../redis/access.js'
import {judgeRedis} from '../../redis/judge.js'
import type {CheckDefinition} from '../types.js'

export const redisCheck: CheckDefinition = {
  id: 'redis',
  title: 'Redis: one master a majority of sentinels agree on, every replica linked and in sync',
  needs: 'SSH, redis-cli on each member; databases.redis',
  targets: (inventory) => (inventory.databases.redis ? [{name: inventory.databases.redis.masterName}] : []),
  skipReason: 'no databases.redis in the inventory',
  async run(ctx) {
    const node = (name: string) => ctx.inventory.nodes.find((n) => n.name === name) as InventoryNode
    const facts = await readRedisFacts(ctx.loaded, async (name, command, options) => {
      if (!ctx.isReachable(node(name))) throw new Error(`${name} is unreachable over SSH`)
      return ctx.remote.run(node(name), command, {...options, timeoutMs: ctx.timeoutMs})
    })
    return judgeRedis(ctx.inventory.name, facts, ctx.inventory.databases.redis!.maxLagBytes)
  },
}
