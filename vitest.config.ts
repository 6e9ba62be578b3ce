import {defineConfig} from 'vitest/config'

// Two projects: `unit` (pure logic, parallel, no host) and `lab` (real hosts: sshd, dockerd,
// Galera, Patroni in the lab's network namespaces; one file at a time, since they share the lab).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 10_000,
        },
      },
      {
        test: {
          name: 'lab',
          include: ['test/lab/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 600_000,
          globalSetup: ['test/lab/global-setup.ts'],
        },
      },
    ],
  },
})
