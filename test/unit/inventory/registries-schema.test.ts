import {describe, expect, it} from 'vitest'
import {registries} from '../../../src/inventory/schema/registries.js'

const entry = (over: Record<string, unknown> = {}) => ({host: 'registry.example.com:5000', username: 'deploy', password: 'env:REGISTRY_PASSWORD', ...over})

describe('inventory registries', () => {
  it('accepts a host with a port, a user and a secret reference', () => {
    expect(registries.parse([entry(), entry({host: 'docker.io', password: 'file:../secrets/hub'})])).toHaveLength(2)
  })

  it.each([
    [{password: 'hunter2'}, 'password', 'secret reference'],
    [{host: 'https://registry.example.com'}, 'host', 'registry host'],
    [{host: 'reg;rm -rf /'}, 'host', 'registry host'],
    [{host: '-reg'}, 'host', 'registry host'],
    [{username: 'a b'}, 'username', 'without spaces'],
    [{token: 'x'}, '', 'token'],
  ])('refuses %j', (over, path, message) => {
    const parsed = registries.safeParse([entry(over)])
    expect(parsed.success).toBe(false)
    expect(parsed.error?.issues.map((i) => `${i.path.slice(1).join('.')}: ${i.message}`).join('\n')).toMatch(new RegExp(`^${path}.*${message}`, 's'))
  })

  it('refuses the same registry twice', () => {
    expect(registries.safeParse([entry(), entry()]).error?.issues[0]?.message).toContain('listed twice')
  })
})
