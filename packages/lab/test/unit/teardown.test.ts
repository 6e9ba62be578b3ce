import {describe, expect, it} from 'vitest'
import {mountsUnder} from '../../src/teardown.js'

describe('mountsUnder', () => {
  const mounts = [
    '/dev/vda / ext4 rw 0 0',
    '/dev/vda /var/lib/ctl-lab/h1/docker ext4 rw 0 0',
    'nsfs /run/ctl-lab/h1/docker-exec/netns/1-abc nsfs rw 0 0',
    'nsfs /run/netns/ctl-lab-h1 nsfs rw 0 0',
    '/dev/vda /var/lib/ctl-lab2/h1/docker ext4 rw 0 0',
    'tmpfs /var/lib/ctl-lab/h1/dir\\040with\\040space tmpfs rw 0 0',
    '/dev/vda /var/lib/ctl-lab/h1/docker ext4 rw 0 0',
  ].join('\n')

  it('finds the lab mounts, deepest first, once each, and nothing of another instance', () => {
    expect(mountsUnder(['/var/lib/ctl-lab', '/run/ctl-lab'], mounts)).toEqual([
      '/run/ctl-lab/h1/docker-exec/netns/1-abc',
      '/var/lib/ctl-lab/h1/dir with space',
      '/var/lib/ctl-lab/h1/docker',
    ])
  })

  it('matches a mount point that is the prefix itself', () => {
    expect(mountsUnder(['/run/netns/ctl-lab-h1'], mounts)).toEqual(['/run/netns/ctl-lab-h1'])
  })
})
