#!/usr/bin/env node
import {parseArgs} from 'node:util'
import {startDoubleServer} from './server.js'

/**
 * Entry point of one Vault double process (see server.ts for what it does and does not do):
 *   node packages/lab/dist/vault-double/main.js --node-id h1 --listen 198.18.0.11:8200 --state-dir DIR
 * Logs one line per start and stop on stdout; SIGTERM or SIGINT stop it (the node is sealed again
 * when it comes back, as a restarted Vault is).
 */
const {values} = parseArgs({
  options: {
    'node-id': {type: 'string'},
    listen: {type: 'string'},
    'api-addr': {type: 'string'},
    'cluster-addr': {type: 'string'},
    'state-dir': {type: 'string'},
  },
})
const listen = values.listen ?? '127.0.0.1:8200'
const colon = listen.lastIndexOf(':')
if (!values['node-id'] || !values['state-dir'] || colon <= 0) {
  process.stderr.write('usage: main.js --node-id ID --listen HOST:PORT --state-dir DIR [--api-addr URL] [--cluster-addr HOST:PORT]\n')
  process.exit(2)
}
const running = await startDoubleServer({
  nodeId: values['node-id'],
  listenHost: listen.slice(0, colon).replace(/^\[|\]$/g, ''),
  port: Number(listen.slice(colon + 1)),
  apiAddr: values['api-addr'],
  clusterAddr: values['cluster-addr'],
  stateDir: values['state-dir'],
})
process.stdout.write(`${new Date().toISOString()} vault double ${values['node-id']} listening on ${running.apiAddr} (sealed)\n`)
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    process.stdout.write(`${new Date().toISOString()} vault double ${values['node-id']} stopping on ${signal}\n`)
    void running.close().then(() => process.exit(0))
  })
}
