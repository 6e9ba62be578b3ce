import type {Inventory, InventoryService} from '../inventory/schema/index.js'

/** Where the gate asks a service's health: at one task/host (its node's address), or through the LB. */
export function healthUrl(inventory: Inventory, service: InventoryService, address: string | undefined): string | undefined {
  const health = service.health
  if (!health) return undefined
  if (health.via === 'loadBalancer') {
    if (health.url) return health.url
    return inventory.loadBalancer ? `${inventory.loadBalancer.url.replace(/\/+$/, '')}${health.path}` : undefined
  }
  if (!address || !health.port) return undefined
  const host = address.includes(':') ? `[${address}]` : address
  return `http://${host}:${health.port}${health.path}`
}
