import {describe, expect, it} from 'vitest'
import {lastLines} from '../../../src/lib/output.js'

describe('lastLines', () => {
  it('takes the end of stderr when the command wrote any, else of stdout', () => {
    expect(lastLines({stdout: 'out 1\nout 2', stderr: 'e1\ne2\ne3\ne4\n'}, 2)).toBe('e3\ne4')
    expect(lastLines({stdout: 'o1\no2\no3\n', stderr: '  \n'}, 2, ' ')).toBe('o2 o3')
  })

  it('joins with the separator asked for and takes a plain string as it is', () => {
    expect(lastLines('a\nb\nc', 2, ' / ')).toBe('b / c')
    expect(lastLines('only', 3)).toBe('only')
    expect(lastLines({stdout: '', stderr: ''}, 3)).toBe('')
  })
})
