import {readdirSync, statSync} from 'node:fs'
import {createRequire} from 'node:module'
import {posix} from 'node:path'

/**
 * s3rver 3.7.1 loses a common prefix whose objects all lie deeper than one level below it (it prunes
 * those directories before it sees an object there): ListObjects of `archive/stanza/` with delimiter
 * `/` never returns `15-1/` when that holds only `0000000100000000/<segment>`. Real S3 (and MinIO)
 * returns it, and pgBackRest's verify looks for it. This adds those prefixes after s3rver's own listing.
 */

interface ListOptions {
  delimiter?: string
  prefix?: string
  startAfter?: string
}
interface ListResult {
  commonPrefixes: string[]
}
interface FilesystemStorePrototype {
  getBucketPath(bucket: string): string
  listObjects(bucket: string, options: ListOptions): Promise<ListResult>
}

const OBJECT_SUFFIX = '._S3rver_object'

function holdsAnObject(dir: string): boolean {
  for (const name of readdirSync(dir)) {
    const path = posix.join(dir, name)
    if (statSync(path).isDirectory() ? holdsAnObject(path) : name.endsWith(OBJECT_SUFFIX)) return true
  }
  return false
}

export function fixCommonPrefixes(): void {
  const require = createRequire(import.meta.url)
  const store = (require('s3rver/lib/stores/filesystem.js') as {prototype: FilesystemStorePrototype}).prototype
  const original = store.listObjects
  store.listObjects = async function (this: FilesystemStorePrototype, bucket, options) {
    const result = await original.call(this, bucket, options)
    const {delimiter = '', prefix = '', startAfter = ''} = options
    if (delimiter !== '/') return result
    const dirKey = prefix.slice(0, prefix.lastIndexOf('/') + 1)
    const dir = posix.join(this.getBucketPath(bucket), dirKey)
    let names: string[]
    try {
      names = readdirSync(dir)
    } catch {
      return result
    }
    const found = new Set(result.commonPrefixes)
    for (const name of names) {
      const key = `${dirKey}${name}/`
      const path = posix.join(dir, name)
      if (key.startsWith(prefix) && key > startAfter && statSync(path).isDirectory() && holdsAnObject(path)) found.add(key)
    }
    result.commonPrefixes = [...found].sort()
    return result
  }
}
