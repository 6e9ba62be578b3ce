#!/usr/bin/env node
// Entry point of the `ctl` binary: oclif reads oclif.manifest.json, so start-up does not scan dist/.
import {execute} from '@oclif/core'

await execute({dir: import.meta.url})
