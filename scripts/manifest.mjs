// `oclif manifest`, then commands sorted by id: oclif lists them in the order the file system
// returns them, so the committed manifest changed on every build without any command changing.
import {execFileSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'

const dir = process.argv[2] ?? '.'
execFileSync('npx', ['oclif', 'manifest'], {cwd: dir, stdio: ['ignore', 'ignore', 'inherit']})
const file = `${dir}/oclif.manifest.json`
const manifest = JSON.parse(readFileSync(file, 'utf8'))
manifest.commands = Object.fromEntries(
  Object.keys(manifest.commands)
    .sort()
    .map((id) => [id, manifest.commands[id]]),
)
writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`)
