import {createServer, type Server} from 'node:http'
import {connect, type Socket} from 'node:net'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import Docker from 'dockerode'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {StreamAgent} from '../../../src/docker/transport.js'

// dockerode through StreamAgent, with plain unix-socket streams standing in for the SSH channels:
// every request travels on a stream of its own, which is closed once the answer is in.
describe('StreamAgent', () => {
  let server: Server
  let socketPath: string
  const seen: string[] = []
  let opened = 0
  const open: Socket[] = []

  beforeAll(async () => {
    socketPath = join(mkdtempSync(join(tmpdir(), 'ctl-agent-')), 'engine.sock')
    server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`)
      res.setHeader('content-type', 'application/json')
      res.end(req.url?.startsWith('/nodes') ? JSON.stringify([{ID: 'n1'}]) : JSON.stringify({ServerVersion: '20.10.24'}))
    })
    await new Promise<void>((resolve) => server.listen(socketPath, resolve))
  })
  afterAll(() => server.close())

  const docker = () =>
    new Docker({
      host: 'docker.sock',
      port: 80,
      protocol: 'http',
      agent: new StreamAgent(async () => {
        opened++
        const stream = connect(socketPath)
        open.push(stream)
        return stream
      }),
    } as Docker.DockerOptions)

  it('carries Engine API calls, one stream per request, each closed after its answer', async () => {
    const client = docker()
    expect(await client.listNodes()).toEqual([{ID: 'n1'}])
    const infos = await Promise.all([client.info(), client.info(), client.info()])
    expect(infos.map((i) => i.ServerVersion)).toEqual(['20.10.24', '20.10.24', '20.10.24'])
    expect(seen).toEqual(['GET /nodes', 'GET /info', 'GET /info', 'GET /info'])
    expect(opened).toBe(4)
    await new Promise((r) => setTimeout(r, 50))
    expect(open.filter((s) => !s.destroyed)).toEqual([])
  })

  it('fails the call with the opener’s error when the stream cannot be opened', async () => {
    const broken = new Docker({
      host: 'docker.sock',
      port: 80,
      protocol: 'http',
      agent: new StreamAgent(async () => Promise.reject(new Error('Channel open failure: open failed'))),
    } as Docker.DockerOptions)
    await expect(broken.info()).rejects.toThrow('Channel open failure: open failed')
  })
})
