import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {parseInventory, resolveInventoryPath} from '../../../src/inventory/load.js'
import {selectNodes} from '../../../src/inventory/select.js'

const minimal = `name: t
nodes:
  - name: a
    address: 10.0.0.1
    role: manager
    labels: {type: service}
  - name: b
    address: 10.0.0.2
    labels: {type: db}
`

describe('inventory loading', () => {
  it('accepts a minimal inventory and fills defaults', () => {
    const {inventory, problems} = parseInventory(minimal, 'x.yml')
    expect(problems).toEqual([])
    expect(inventory?.ssh.port).toBe(22)
    expect(inventory?.nodes[1]?.role).toBe('worker')
  })

  it('names file, line and field of each problem', () => {
    const bad = minimal.replace('address: 10.0.0.2', 'address: "10.0.0.2; rm -rf /"').replace('role: manager', 'role: boss')
    const {inventory, problems} = parseInventory(bad, 'bad.yml')
    expect(inventory).toBeUndefined()
    const byField = Object.fromEntries(problems.map((p) => [p.field, p]))
    expect(byField['nodes[0].role']).toMatchObject({file: 'bad.yml', line: 5})
    expect(byField['nodes[1].address']).toMatchObject({line: 8})
  })

  it('refuses inline secrets and dangling node references', () => {
    const text = `${minimal}databases:\n  patroni:\n    scope: pg\n    password: hunter2\n    members:\n      - {node: c, name: pg1}\n`
    const {problems} = parseInventory(text, 'x.yml')
    const fields = problems.map((p) => p.field)
    expect(fields).toContain('databases.patroni.password')
    expect(fields).toContain('databases.patroni.members[0].node')
  })

  it('reports YAML syntax errors with their line', () => {
    const {problems} = parseInventory('name: t\nnodes: [\n  - a\n', 'y.yml')
    expect(problems[0]?.field).toBe('(yaml)')
    expect(problems[0]?.line).toBeGreaterThan(1)
  })

  it('resolves env names and paths', () => {
    expect(resolveInventoryPath('prod', '/srv')).toBe('/srv/inventories/prod.yml')
    expect(resolveInventoryPath('./x/y.yml', '/srv')).toBe('/srv/x/y.yml')
    expect(() => resolveInventoryPath('a;b', '/srv')).toThrow(/not an environment name/)
  })

  it('selects nodes by name, label and role', () => {
    const {inventory} = parseInventory(minimal, 'x.yml')
    expect(selectNodes(inventory!, {label: ['type=db']}).map((n) => n.name)).toEqual(['b'])
    expect(selectNodes(inventory!, {role: 'manager'}).map((n) => n.name)).toEqual(['a'])
    expect(() => selectNodes(inventory!, {node: ['zz']})).toThrow(/Unknown node/)
  })

  it('validates every shipped inventory', () => {
    const root = join(import.meta.dirname, '../../../inventories')
    const files = [...readdirSync(join(root, 'examples')).map((f) => join(root, 'examples', f)), join(root, 'lab.yml')].filter((f) => f.endsWith('.yml'))
    expect(files.length).toBeGreaterThan(0)
    for (const file of files) {
      const {problems} = parseInventory(readFileSync(file, 'utf8'), file)
      expect(problems, file).toEqual([])
    }
  })
})
