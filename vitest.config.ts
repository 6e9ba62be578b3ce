import {fileURLToPath} from 'node:url'
import {defineConfig} from 'vitest/config'

// Two projects: `unit` (pure logic, parallel, no host) and `lab` (real hosts: sshd, dockerd,
// Galera, Patroni in the lab's network namespaces; one file at a time, since they share the lab).
// Each takes the product's tests (test/) and the lab package's own (packages/lab/test/).
// `ctl/...` (how the lab package imports the product) resolves to the product's sources here, so a
// test sees one copy of each module (one CtlError class), not the source and the build side by side.
const productSrc = fileURLToPath(new URL('./src/', import.meta.url))
const resolve = {alias: [{find: /^ctl\/(.*)\.js$/, replacement: `${productSrc}$1.ts`}]}

export default defineConfig({
  test: {
    projects: [
      {
        resolve,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'packages/lab/test/unit/**/*.test.ts'],
          testTimeout: 10_000,
        },
      },
      {
        resolve,
        test: {
          name: 'lab',
          include: ['test/lab/**/*.test.ts', 'packages/lab/test/lab/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 600_000,
          globalSetup: ['test/lab/global-setup.ts'],
        },
      },
    ],
  },
})
