import {describe, expect, it} from 'vitest'
import {judgeEngineVersion} from '../../../src/checks/all/docker-engine.js'

describe('docker-engine', () => {
  it.each([
    ['20.10.24+dfsg1', '20.10', 'pass'],
    ['28.1.1', '20.10', 'pass'],
    ['19.03.15', '20.10', 'fail'],
    ['', '20.10', 'fail'],
  ] as const)('%s against %s → %s', (version, min, status) => {
    expect(judgeEngineVersion(version, min).status).toBe(status)
  })
})
