#!/bin/sh
//bin/true; p=$(readlink -f -- "$0" 2>/dev/null) || p=$0; n=${p%/*}/../node_modules/.bin/node; [ -x "$n" ] || n=node; exec "$n" "$p" "$@"
// Entry point of the `ctl` binary: oclif reads oclif.manifest.json, so start-up does not scan dist/.
// Run as a program, the line above is sh (to JavaScript it is a comment): it starts the project's own
// Node 22 (the `node` devDependency in node_modules/.bin) where there is one, else the `node` on PATH,
// and `exec` makes that Node this process: one Node process, whatever the machine's Node is.
// ctl needs Node 22; started by an older `node bin/run.js`, it re-runs itself under the project's Node 22.
import module from 'node:module'

// Node's own modules through require: an ESM import of node:fs builds its whole namespace (fs/promises,
// streams), some 15% of a bare Node's start, which `--version` and light commands would pay.
const require = module.createRequire(import.meta.url)
const {existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync} = require('node:fs')
const {constants, homedir, release} = require('node:os')
const {basename, dirname, join} = require('node:path')
const {fileURLToPath} = require('node:url')

const major = Number(process.versions.node.split('.')[0])
const localNode = fileURLToPath(new URL('../node_modules/.bin/node', import.meta.url))
if (major < 22 && existsSync(localNode) && !process.env.CTL_REEXEC) {
  // This process only stands in for the real one: signals sent to it (a supervisor's SIGTERM, a
  // closed terminal's SIGHUP, kill's SIGINT) are passed on, and it ends the way the child ended,
  // with its exit code or by the same signal, so whoever started ctl sees ctl's own outcome.
  // node:child_process loads here only: it would cost every other start about a sixth of a bare Node.
  const {spawn} = require('node:child_process')
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
  // --no-color anywhere before `--` means NO_COLOR (https://no-color.org), which every library ctl
  // prints through honours (oclif's help, listr2, ora); a FORCE_COLOR from the environment yields to it.
  const end = process.argv.includes('--') ? process.argv.indexOf('--') : process.argv.length
  const noColor = process.argv.slice(0, end).lastIndexOf('--no-color')
  if (noColor > 1) {
    process.argv = process.argv.filter((arg, i) => i >= end || arg !== '--no-color')
    process.env.NO_COLOR = '1'
    delete process.env.FORCE_COLOR
  }
  // From a source checkout (packages/lab is beside bin/, which the published package never has), oclif's
  // development plugins load: the lab (`ctl lab ...`). Installed from the registry, ctl is the product alone.
  if (!process.env.NODE_ENV && existsSync(fileURLToPath(new URL('../packages/lab/package.json', import.meta.url)))) {
    process.env.NODE_ENV = 'development'
  }
  // Node's compile cache (Node >= 22.1) keeps V8's compiled code of ctl and its modules between runs. In
  // the user's own cache directory, not a shared /tmp where another user could plant code for root to run.
  const cacheDir = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'ctl', 'compile-cache')
  module.enableCompileCache?.(cacheDir)
  // A light command given a plain argv runs without oclif, from the one file the build made of it
  // (src/lib/light.ts, src/lib/light-argv.ts, scripts/light.mjs); oclif runs everything else.
  let light
  try {
    light = require('../dist/light/plan.cjs').planLight(process.argv.slice(2), fileURLToPath(new URL('..', import.meta.url)))
  } catch (error) {
    if (error?.code !== 'MODULE_NOT_FOUND') throw error // Built by tsc alone: no light path.
  }
  if (light) {
    const {runLight, run} = requireWithCodeCache(light.file, join(cacheDir, 'light'))
    await runLight(run, light.input, light.json)
  } else {
    const {execute, settings} = await import('@oclif/core')
    // Run the compiled dist/ always; development mode must not look for TypeScript sources.
    settings.enableAutoTranspile = false
    await execute({dir: import.meta.url})
  }
}

/**
 * Runs a light command's CommonJS file with a V8 code cache of it taken at the end of its first run
 * (in `cacheDir`, the user's own): unlike Node's compile cache, which keeps only what V8 compiled
 * before the file ran, it holds every function the run compiled, a fifth of a light command's start.
 * The file's name carries a hash of its content (scripts/light.mjs), so a cache never meets another
 * build's file; V8 rejects one from another Node or other flags, and the cache is then written anew.
 */
function requireWithCodeCache(file, cacheDir) {
  const {Script} = require('node:vm')
  const cacheFile = join(cacheDir, `${basename(file)}-${process.version}-${process.arch}.v8`)
  let cachedData
  try {
    cachedData = readFileSync(cacheFile)
  } catch {
    // Not cached yet.
  }
  const source = readFileSync(file, 'utf8')
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {filename: file, cachedData})
  const loaded = {exports: {}}
  script.runInThisContext()(loaded.exports, module.createRequire(file), loaded, file, dirname(file))
  if (cachedData === undefined || script.cachedDataRejected) {
    process.once('exit', () => {
      try {
        mkdirSync(cacheDir, {recursive: true, mode: 0o700})
        writeFileSync(`${cacheFile}.${process.pid}`, script.createCachedData())
        renameSync(`${cacheFile}.${process.pid}`, cacheFile)
        // The caches of this command's earlier builds or Nodes are of no more use.
        const command = `${basename(file).split('.')[0]}.`
        for (const old of readdirSync(cacheDir)) if (old.startsWith(command) && old !== basename(cacheFile)) rmSync(join(cacheDir, old), {force: true})
      } catch {
        // A cache that cannot be written (read-only home) only costs time.
      }
    })
  }
  return loaded.exports
}
