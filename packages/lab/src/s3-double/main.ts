#!/usr/bin/env node
import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {parseArgs} from 'node:util'
import {fixCommonPrefixes} from './list-fix.js'

/**
 * The lab's S3 storage (the seeds' MinIO stands here): s3rver, an S3 API server on the filesystem, over
 * TLS with the lab CA, with one key pair read from files (s3rver's built-in S3RVER pair is revoked,
 * so only the lab's access key id is known; unsigned requests are refused). It serves the bucket and
 * object calls restic and pgBackRest make. It does NOT check SigV4 signatures (s3rver checks only V2
 * ones): a wrong secret key is not caught here as MinIO would catch it. More in docs/BACKUPS.md.
 *   node packages/lab/dist/s3-double/main.js --listen 198.18.0.1:9000 --directory DIR --cert C --key K \
 *        --access-key-file F --secret-key-file F --bucket ctl-backups
 */

interface S3rverInstance {
  run(): Promise<{address: string; port: number}>
  close(): Promise<void>
}
interface AnonymousContext {
  get(header: string): string
  query: Record<string, unknown>
  status: number
  type: string
  body: string
}
interface AwsAccount {
  createKeyPair(id: string, secret: string): void
  revokeAccessKey(id: string): void
}

fixCommonPrefixes()
const require = createRequire(import.meta.url)
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => S3rverInstance
const {DUMMY_ACCOUNT} = require('s3rver/lib/models/account.js') as {DUMMY_ACCOUNT: AwsAccount}

const {values} = parseArgs({
  options: {
    listen: {type: 'string'},
    directory: {type: 'string'},
    cert: {type: 'string'},
    key: {type: 'string'},
    'access-key-file': {type: 'string'},
    'secret-key-file': {type: 'string'},
    bucket: {type: 'string', multiple: true},
  },
})
const listen = values.listen ?? ''
const colon = listen.lastIndexOf(':')
if (colon <= 0 || !values.directory || !values.cert || !values.key || !values['access-key-file'] || !values['secret-key-file']) {
  process.stderr.write(
    'usage: main.js --listen HOST:PORT --directory DIR --cert FILE --key FILE --access-key-file FILE --secret-key-file FILE [--bucket NAME]...\n',
  )
  process.exit(2)
}
const accessKey = readFileSync(values['access-key-file'], 'utf8').trim()
DUMMY_ACCOUNT.createKeyPair(accessKey, readFileSync(values['secret-key-file'], 'utf8').trim())
DUMMY_ACCOUNT.revokeAccessKey('S3RVER')

const server = new S3rver({
  address: listen.slice(0, colon),
  port: Number(listen.slice(colon + 1)),
  directory: values.directory,
  cert: readFileSync(values.cert),
  key: readFileSync(values.key),
  silent: false,
  configureBuckets: (values.bucket ?? []).map((name) => ({name})),
})
// s3rver lets unsigned requests through as anonymous ones; a real MinIO bucket is private: refuse them first.
const middleware = (server as unknown as {middleware: ((ctx: AnonymousContext, next: () => Promise<void>) => Promise<void>)[]}).middleware
middleware.unshift(async (ctx, next) => {
  if (ctx.get('authorization') === '' && !('X-Amz-Algorithm' in ctx.query) && !('Signature' in ctx.query)) {
    ctx.status = 403
    ctx.type = 'application/xml'
    ctx.body = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Anonymous access is refused</Message></Error>'
    return
  }
  await next()
})
const {address, port} = await server.run()
// Node closes idle keep-alive connections after 5 s; pgBackRest and restic keep theirs longer and would
// meet a closed socket (MinIO, like S3, keeps them far longer).
const httpServer = (server as unknown as {httpServer: {keepAliveTimeout: number; headersTimeout: number}}).httpServer
httpServer.keepAliveTimeout = 120_000
httpServer.headersTimeout = 125_000
process.stdout.write(`${new Date().toISOString()} s3 double listening on https://${address}:${port} (${values.directory})\n`)
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    process.stdout.write(`${new Date().toISOString()} s3 double stopping on ${signal}\n`)
    void server.close().then(() => process.exit(0))
  })
}
