import {describe, expect, it} from 'vitest'
import {hostFactsScript, parseHostFacts} from '../../../src/checks/host-facts.js'

describe('host facts', () => {
  it('reads kernel, disk and memory in one script, each with its own exit code', () => {
    expect(hostFactsScript('/var/lib docker').script).toBe(
      `uname -sr 2>&1; echo "__ctl_fact_exit=$?"; df -Pk -- '/var/lib docker' 2>&1; echo "__ctl_fact_exit=$?"; cat /proc/meminfo 2>&1; echo "__ctl_fact_exit=$?"`,
    )
  })
  it('splits the answer back, keeping a failed part with its code', () => {
    const out =
      'Linux 6.1.0\n__ctl_fact_exit=0\ndf: /nope: No such file or directory\n__ctl_fact_exit=1\nMemTotal: 1 kB\nMemAvailable: 1 kB\n__ctl_fact_exit=0\n'
    expect(parseHostFacts('h1', out)).toEqual({
      node: 'h1',
      uname: {code: 0, output: 'Linux 6.1.0'},
      df: {code: 1, output: 'df: /nope: No such file or directory'},
      meminfo: {code: 0, output: 'MemTotal: 1 kB\nMemAvailable: 1 kB'},
    })
  })
})
