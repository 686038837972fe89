// The 46 functions of wasi_snapshot_preview1, by area. Every one gets an explicit policy
// row (policy.ts) and an implementation (calls/*); the conformance test holds both to it.

export const PREVIEW1_FUNCTIONS = [
  'args_get', 'args_sizes_get', 'environ_get', 'environ_sizes_get',
  'clock_res_get', 'clock_time_get',
  'fd_advise', 'fd_allocate', 'fd_close', 'fd_datasync', 'fd_fdstat_get', 'fd_fdstat_set_flags',
  'fd_fdstat_set_rights', 'fd_filestat_get', 'fd_filestat_set_size', 'fd_filestat_set_times',
  'fd_pread', 'fd_prestat_get', 'fd_prestat_dir_name', 'fd_pwrite', 'fd_read', 'fd_readdir',
  'fd_renumber', 'fd_seek', 'fd_sync', 'fd_tell', 'fd_write',
  'path_create_directory', 'path_filestat_get', 'path_filestat_set_times', 'path_link', 'path_open',
  'path_readlink', 'path_remove_directory', 'path_rename', 'path_symlink', 'path_unlink_file',
  'poll_oneoff', 'proc_exit', 'proc_raise', 'sched_yield', 'random_get',
  'sock_accept', 'sock_recv', 'sock_send', 'sock_shutdown',
] as const

export type Preview1Function = (typeof PREVIEW1_FUNCTIONS)[number]

export type Area = 'args' | 'clock' | 'random' | 'fd' | 'path' | 'poll' | 'proc' | 'sock'

export function areaOf(fn: Preview1Function): Area {
  if (fn.startsWith('args_') || fn.startsWith('environ_')) return 'args'
  if (fn.startsWith('clock_')) return 'clock'
  if (fn === 'random_get') return 'random'
  if (fn.startsWith('fd_')) return 'fd'
  if (fn.startsWith('path_')) return 'path'
  if (fn === 'poll_oneoff' || fn === 'sched_yield') return 'poll'
  if (fn.startsWith('proc_')) return 'proc'
  return 'sock'
}

/**
 * Which arguments of each function are fds (by position): an fd that is not open is
 * EBADF on every one of them, whatever its row. poll_oneoff names fds inside its
 * subscriptions (each gets its own EBADF event), so it has none here.
 */
export const FD_ARGS: Readonly<Record<Preview1Function, readonly number[]>> = Object.freeze(Object.fromEntries(
  PREVIEW1_FUNCTIONS.map((fn): [Preview1Function, readonly number[]] => [fn, fdArgs(fn)]),
) as Record<Preview1Function, readonly number[]>)

function fdArgs(fn: Preview1Function): readonly number[] {
  switch (fn) {
    case 'fd_renumber': return [0, 1]
    case 'path_link': return [0, 4]
    case 'path_rename': return [0, 3]
    case 'path_symlink': return [2]
    default: return fn.startsWith('fd_') || fn.startsWith('path_') || fn.startsWith('sock_') ? [0] : []
  }
}

const SET = new Set<string>(PREVIEW1_FUNCTIONS)
export function isPreview1Function(s: string): s is Preview1Function {
  return SET.has(s)
}
