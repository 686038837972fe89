// WASI preview1 errno values (witx `errno`), named: every denial returns one of these,
// never a bare -1.
export const ERRNO = {
  SUCCESS: 0, E2BIG: 1, EACCES: 2, EAGAIN: 6, EBADF: 8, EEXIST: 20, EFAULT: 21, EFBIG: 22,
  EILSEQ: 25, EINTR: 27, EINVAL: 28, EIO: 29, EISDIR: 31, ELOOP: 32, EMFILE: 33, EMLINK: 34,
  ENAMETOOLONG: 37, ENOENT: 44, ENOSPC: 51, ENOSYS: 52, ENOTCONN: 53, ENOTDIR: 54,
  ENOTEMPTY: 55, ENOTSOCK: 57, ENOTSUP: 58, EOVERFLOW: 61, EPERM: 63, EPIPE: 64,
  ESPIPE: 70, EXDEV: 75, ENOTCAPABLE: 76,
} as const

export type ErrnoName = keyof typeof ERRNO

const NAMES = new Map<number, ErrnoName>(Object.entries(ERRNO).map(([k, v]) => [v, k as ErrnoName]))

/** The name of errno `n` (for messages and tests), or `E<n>` when unnamed here. */
export function errnoName(n: number): string {
  return NAMES.get(n) ?? `E${n}`
}

/** Thrown inside the syscall layer to return an errno; caught at the import boundary. */
export class Errno {
  constructor(readonly errno: number) {}
}

export function fail(errno: number): never {
  throw new Errno(errno)
}
