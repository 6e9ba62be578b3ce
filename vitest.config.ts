import {fileURLToPath} from 'node:url'
import {defineConfig} from 'vitest/config'

// Projects: `unit` (pure logic, parallel, no host) and the lab's (real hosts: sshd, dockerd,
// Galera, Patroni in the lab's network namespaces; see labProject below).
// Each takes the product's tests (test/) and the lab package's own (packages/lab/test/).
// `ctl/...` (how the lab package imports the product) resolves to the product's sources here, so a
// test sees one copy of each module (one CtlError class), not the source and the build side by side.
const productSrc = fileURLToPath(new URL('./src/', import.meta.url))
const resolve = {alias: [{find: /^ctl\/(.*)\.js$/, replacement: `${productSrc}$1.ts`}]}

// The lab files of the two sides that run side by side (see the projects below); `lab-whole` takes the rest.
const LAB_SWARM = [
  'test/lab/deploy-*.test.ts',
  'test/lab/node-label-drain.test.ts',
  'test/lab/placement-verify.test.ts',
  'packages/lab/test/lab/registry.test.ts',
  // Redis (its own processes, repaired with --only redis): beside the Swarm tests to even out the sides.
  'test/lab/redis*.test.ts',
  // RabbitMQ (its own processes, repaired with --only rabbitmq).
  'test/lab/rabbitmq*.test.ts',
  // Labs of their own (instances 41 and 8): here to even out the two sides' durations.
  'test/lab/node-bootstrap.test.ts',
  'packages/lab/test/lab/lab-node-down.test.ts',
]
const LAB_DATA = [
  'test/lab/backup-*.test.ts',
  'test/lab/galera-*.test.ts',
  'test/lab/mariadb-*.test.ts',
  'test/lab/patroni-*.test.ts',
  'test/lab/pg-*.test.ts',
  'test/lab/runbook-lock.test.ts',
  'test/lab/vault-*.test.ts',
  'packages/lab/test/lab/vault-api-contract.test.ts',
  // A lab of its own (instance 7), which checks that the shared lab's daemons outlive its down: not
  // beside lab-swarm's tests, which restart the shared lab's dockerd.
  'packages/lab/test/lab/lab-down.test.ts',
]

/** A lab project: its files one at a time; `group` orders it among the projects (same group: side by side). */
function labProject(name: string, group: number, include: string[], exclude: string[] = []) {
  return {
    resolve,
    test: {
      name,
      include,
      exclude: ['**/node_modules/**', ...exclude],
      fileParallelism: false,
      testTimeout: 300_000,
      hookTimeout: 600_000,
      globalSetup: ['test/lab/global-setup.ts'],
      sequence: {groupOrder: group},
    },
  }
}

export default defineConfig({
  test: {
    projects: [
      {
        resolve,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'packages/lab/test/unit/**/*.test.ts'],
          testTimeout: 10_000,
          sequence: {groupOrder: 1},
        },
      },
      // The lab tests in three projects. `lab-swarm` (the app stack on Swarm, deploys, nodes, the
      // registry) and `lab-data` (Galera, Patroni, Vault, backups: processes in the host namespaces,
      // never Swarm) use parts of the shared lab that do not touch each other: `npm test`
      // (scripts/test.mjs) runs them side by side in two vitest processes, each one file at a time;
      // their own repairs are `lab up --only <component>`. `lab-whole` (checks of everything, sshd and
      // host keys, lab up of all components) runs after both. A plain `vitest run` takes the projects
      // one after another in the order below (each its own group: their worker counts differ).
      labProject('lab-swarm', 2, LAB_SWARM),
      labProject('lab-data', 3, LAB_DATA),
      labProject('lab-whole', 4, ['test/lab/**/*.test.ts', 'packages/lab/test/lab/**/*.test.ts'], [...LAB_SWARM, ...LAB_DATA]),
    ],
  },
})
