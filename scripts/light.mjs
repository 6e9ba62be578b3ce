// Builds what bin/run.js needs to run a light command (src/lib/light.ts) without oclif, into dist/light/:
// - plan.cjs: src/lib/light-argv.ts, which tells from argv whether a light command runs;
// - per light command, one CommonJS file holding `runLight`, the command's run and everything they
//   import (zod, yaml, ctl's modules): bin/run.js reads one file instead of resolving some 200
//   modules, and CommonJS takes Node's built-in modules without building their ESM namespaces.
//   Its name carries a hash of its content, which keys bin/run.js's code cache of it;
// - index.json: command id -> that file.
// Fails when a bundle would take in oclif or a heavy module: a light command must stay light.
// Run by `npm run build`, after tsc and the manifest.
import {createHash} from 'node:crypto'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {rolldown} from 'rolldown'

const root = resolve(import.meta.dirname, '..')
const out = join(root, 'dist', 'light')
const HEAVY = /\/node_modules\/(@oclif\/[^/]+|dockerode|docker-modem|ssh2|node-ssh|@inquirer\/[^/]+|inquirer|listr2|ora|execa)\//

/** One CommonJS file of `input` and all it imports but Node's own modules; throws on a heavy module. */
async function bundle(input, what) {
  const build = await rolldown({input, platform: 'node', logLevel: 'warn'})
  const {output} = await build.generate({format: 'cjs', minify: true})
  await build.close()
  const heavy = output.flatMap((chunk) => chunk.moduleIds ?? []).filter((id) => HEAVY.test(id))
  if (heavy.length > 0) throw new Error(`${what} would load ${heavy.join(', ')}: it must not (src/lib/light.ts)`)
  if (output.length !== 1) throw new Error(`${what}: expected one file, rolldown made ${output.length}`)
  return output[0].code
}

rmSync(out, {recursive: true, force: true})
mkdirSync(out, {recursive: true})
writeFileSync(join(out, 'plan.cjs'), await bundle(join(root, 'dist/lib/light-argv.js'), 'src/lib/light-argv.ts'))
const {commands} = JSON.parse(readFileSync(join(root, 'oclif.manifest.json'), 'utf8'))
const index = {}
const work = mkdtempSync(join(tmpdir(), 'ctl-light-'))
try {
  for (const [id, command] of Object.entries(commands)) {
    if (!command.light) continue
    const module = resolve(root, ...command.relativePath.slice(0, -1), command.light.module)
    const entry = join(work, `${id.replaceAll(':', '-')}.mjs`)
    writeFileSync(
      entry,
      `export {runLight} from ${JSON.stringify(join(root, 'dist/lib/light.js'))}\nexport {${command.light.export} as run} from ${JSON.stringify(module)}\n`,
    )
    const code = await bundle(entry, `light command ${id}`)
    const file = `${id.replaceAll(':', '-')}.${createHash('sha256').update(code).digest('hex').slice(0, 16)}.cjs`
    writeFileSync(join(out, file), code)
    index[id] = file
  }
} finally {
  rmSync(work, {recursive: true, force: true})
}
writeFileSync(join(out, 'index.json'), `${JSON.stringify(index, undefined, 2)}\n`)
