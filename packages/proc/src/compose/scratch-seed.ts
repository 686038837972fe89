// A scratch seed copied from a host file or directory, by the embedder (the spawner chose
// the path; the guest never names host paths). Read before the process starts, bounded as
// it goes by the scratch quota, so a huge tree fails fast instead of being read whole.
// Symlinks are copied as symlinks, never followed: a link in the tree cannot pull in a
// host file from outside it (and the scratch dir refuses targets that leave it).

import { lstat, readdir, readFile, readlink } from 'node:fs/promises'
import { join } from 'node:path'
import { ScratchSeedError, type ScratchEntry } from '@ww/wasi-restricted'

export interface HostSeedLimits {
  /** Stop (ScratchSeedError) once the files hold more than this (the scratch grant's maxBytes). */
  maxBytes?: number
  /** Stop once there are more entries than this (the grant's maxInodes less the dir's own). */
  maxEntries?: number
  signal?: AbortSignal
}

/**
 * The host file or directory `source` as scratch entries at `dest` (a path relative to the
 * scratch dir; '' puts a directory's contents at its top). A missing source, a special
 * file (fifo, socket, device) or a tree over the limits is a ScratchSeedError naming it.
 */
export async function scratchSeedFromHost(source: string, dest: string, limits: HostSeedLimits = {}): Promise<ScratchEntry[]> {
  const maxBytes = limits.maxBytes ?? Number.MAX_SAFE_INTEGER
  const maxEntries = limits.maxEntries ?? Number.MAX_SAFE_INTEGER
  const out: ScratchEntry[] = []
  let bytes = 0
  const under = (rel: string, name: string): string => (rel === '' ? name : `${rel}/${name}`)

  async function walk(host: string, rel: string, top: boolean): Promise<void> {
    limits.signal?.throwIfAborted()
    let st
    try { st = await lstat(host) } catch (e) {
      const code = (e as { code?: string }).code
      if (top && code === 'ENOENT') throw new ScratchSeedError(source, 'no such file or directory on the host')
      throw new ScratchSeedError(host, `cannot read it on the host: ${(e as Error).message}`)
    }
    if (st.isDirectory()) {
      if (rel !== '') out.push({ path: rel, dir: true })
      for (const name of (await readdir(host)).sort()) await walk(join(host, name), under(rel, name), false)
    } else if (st.isFile()) {
      if (rel === '') throw new ScratchSeedError(source, 'a file needs a name in the scratch dir, not the dir itself')
      bytes += st.size
      if (bytes > maxBytes) throw new ScratchSeedError(source, `holds more than ${maxBytes} bytes, the scratch quota`)
      out.push({ path: rel, bytes: new Uint8Array(await readFile(host)) })
    } else if (st.isSymbolicLink()) {
      if (rel === '') throw new ScratchSeedError(source, 'is a symlink: give the file or directory it points to')
      out.push({ path: rel, symlink: await readlink(host) })
    } else {
      throw new ScratchSeedError(host, 'not a regular file, directory or symlink')
    }
    if (out.length > maxEntries) throw new ScratchSeedError(source, `holds more than ${maxEntries} files and directories, the scratch quota`)
  }

  await walk(source, dest, true)
  return out
}
