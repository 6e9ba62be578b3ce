import {describe, expect, it} from 'vitest'
import {judgePulls} from '../../../src/checks/all/registry-pull.js'

const reg = '198.18.0.1:5000/ctl-lab/app'

describe('registry-pull verdicts', () => {
  it('passes when the node resolved every image', () => {
    expect(judgePulls('h2', [{image: `${reg}:v1`, answer: {ok: true, digest: 'sha256:a'}, withAuth: true}])).toEqual([
      {status: 'pass', detail: 'can pull 1 image(s) from 198.18.0.1:5000 (each tag resolved to its digest)'},
    ])
  })

  it('fails once per image it could not resolve, with the next step for each cause', () => {
    const findings = judgePulls('h2', [
      {image: `${reg}:v1`, answer: {ok: true, digest: 'sha256:a'}, withAuth: true},
      {image: `${reg}:v9`, answer: {ok: false, failure: 'missing', message: 'manifest unknown'}, withAuth: true},
      {image: `${reg}:v1`, answer: {ok: false, failure: 'unauthorized', message: 'no basic auth credentials'}, withAuth: false},
      {image: `${reg}:v2`, answer: {ok: false, failure: 'unreachable', message: 'x509: certificate signed by unknown authority'}, withAuth: true},
    ])
    expect(findings.map((f) => [f.status, f.detail, f.hint])).toEqual([
      ['fail', `cannot pull ${reg}:v9: manifest unknown`, `Push ${reg}:v9, or fix its tag in the stack file.`],
      ['fail', `cannot pull ${reg}:v1: no basic auth credentials`, "Add 198.18.0.1:5000 with its credentials to the inventory's registries."],
      ['fail', `cannot pull ${reg}:v2: x509: certificate signed by unknown authority`, expect.stringContaining('/etc/docker/certs.d/198.18.0.1:5000/ca.crt')],
    ])
  })
})
