#!/bin/sh
//bin/true; p=$(readlink -f -- "$0" 2>/dev/null) || p=$0; n=${p%/*}/../node_modules/.bin/node; [ -x "$n" ] || n=node; exec "$n" "$p" "$@"
// Entry point of the `ctl` binary: oclif reads oclif.manifest.json, so start-up does not scan dist/.
// Run as a program, the line above is sh (to JavaScript it is a comment): it starts the project's own
// Node 22 (the `node` devDependency in node_modules/.bin) where there is one, else the `node` on PATH,
// and `exec` makes that Node this process: one Node process, whatever the machine's Node is.
// ctl needs Node 22; started by an older `node bin/run.js`, it re-runs itself under the project's Node 22.
import {spawn} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import module from 'node:module'
import {constants, homedir, release} from 'node:os'
import {join} from 'node:path'
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
} else if (process.argv[2] === '--version' && !release().toLowerCase().includes('microsoft')) {
  // oclif's own answer to --version (its user agent; test/unit/bin/startup.test.ts compares them), without
  // loading oclif, which costs 4x a bare Node. No ctl plugin has an init hook that this skips. On WSL
  // (a kernel release naming Microsoft) oclif answers, since it says `wsl` there.
  const {name, version} = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  console.log(`${name}/${version} ${process.platform}-${process.arch === 'ia32' ? 'x86' : process.arch} node-${process.version}`)
} else {
  // From a source checkout (packages/lab is beside bin/, which the published package never has), oclif's
  // development plugins load: the lab (`ctl lab ...`). Installed from the registry, ctl is the product alone.
  if (!process.env.NODE_ENV && existsSync(fileURLToPath(new URL('../packages/lab/package.json', import.meta.url)))) {
    process.env.NODE_ENV = 'development'
  }
  // Node's compile cache (Node >= 22.1) keeps V8's compiled code of ctl and its modules between runs. In
  // the user's own cache directory, not a shared /tmp where another user could plant code for root to run.
  module.enableCompileCache?.(join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'ctl', 'compile-cache'))
  const {execute, settings} = await import('@oclif/core')
  // Run the compiled dist/ always; development mode must not look for TypeScript sources.
  settings.enableAutoTranspile = false
  await execute({dir: import.meta.url})
}
