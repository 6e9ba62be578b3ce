#!/usr/bin/env node
// Entry point of the `ctl` binary: oclif reads oclif.manifest.json, so start-up does not scan dist/.
// ctl needs Node 22; where the system's Node is older, re-run under the project's own Node 22
// (the `node` devDependency in node_modules/.bin), so `./bin/run.js` works on such machines too.
import {spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const major = Number(process.versions.node.split('.')[0])
const localNode = fileURLToPath(new URL('../node_modules/.bin/node', import.meta.url))
if (major < 22 && existsSync(localNode) && !process.env.CTL_REEXEC) {
  const child = spawnSync(localNode, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {stdio: 'inherit', env: {...process.env, CTL_REEXEC: '1'}})
  process.exit(child.status ?? 1)
}

// From a source checkout (packages/lab is beside bin/, which the published package never has), oclif's
// development plugins load: the lab (`ctl lab ...`). Installed from the registry, ctl is the product alone.
if (!process.env.NODE_ENV && existsSync(fileURLToPath(new URL('../packages/lab/package.json', import.meta.url)))) {
  process.env.NODE_ENV = 'development'
}
const {execute, settings} = await import('@oclif/core')
// Run the compiled dist/ always; development mode must not look for TypeScript sources.
settings.enableAutoTranspile = false
await execute({dir: import.meta.url})
