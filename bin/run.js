#!/usr/bin/env node
// Entry point of the `ctl` binary: oclif reads oclif.manifest.json, so start-up does not scan dist/.
// ctl needs Node 22; where the system's Node is older, re-run under the project's own Node 22
// (the `node` devDependency in node_modules/.bin), so `./bin/run.js` works on such machines too.
import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {constants} from 'node:os'
import {fileURLToPath} from 'node:url'

const major = Number(process.versions.node.split('.')[0])
const localNode = fileURLToPath(new URL('../node_modules/.bin/node', import.meta.url))
if (major < 22 && existsSync(localNode) && !process.env.CTL_REEXEC) {
  // This process only stands in for the real one: signals sent to it (a supervisor's SIGTERM, a
  // closed terminal's SIGHUP, kill's SIGINT) are passed on, and it ends the way the child ended,
  // with its exit code or by the same signal, so whoever started ctl sees ctl's own outcome.
  const child = spawn(localNode, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {stdio: 'inherit', env: {...process.env, CTL_REEXEC: '1'}})
  const forwarded = ['SIGINT', 'SIGTERM', 'SIGHUP']
  const forward = (signal) => child.kill(signal)
  for (const signal of forwarded) process.on(signal, forward)
  child.on('error', (error) => {
    console.error(`Error: cannot start ${localNode}: ${error.message}`)
    process.exit(2)
  })
  child.on('exit', (code, signal) => {
    for (const s of forwarded) process.off(s, forward)
    if (!signal) process.exit(code ?? 1)
    process.kill(process.pid, signal)
    // Still here: this process ignores that signal (e.g. SIGHUP under nohup); exit as a shell reports it.
    setTimeout(() => process.exit(128 + (constants.signals[signal] ?? 0)), 100)
  })
} else {
  // From a source checkout (packages/lab is beside bin/, which the published package never has), oclif's
  // development plugins load: the lab (`ctl lab ...`). Installed from the registry, ctl is the product alone.
  if (!process.env.NODE_ENV && existsSync(fileURLToPath(new URL('../packages/lab/package.json', import.meta.url)))) {
    process.env.NODE_ENV = 'development'
  }
  const {execute, settings} = await import('@oclif/core')
  // Run the compiled dist/ always; development mode must not look for TypeScript sources.
  settings.enableAutoTranspile = false
  await execute({dir: import.meta.url})
}
