// Human output: colour only when the stream is a TTY and NO_COLOR is unset.
import type { Io } from './command.js'

export interface Style {
  bold(s: string): string
  dim(s: string): string
  green(s: string): string
  red(s: string): string
  cyan(s: string): string
}

export function style(io: Io, stream: 'stdout' | 'stderr' = 'stdout'): Style {
  const on = Boolean(io[stream].isTTY) && io.env.NO_COLOR === undefined && io.env.TERM !== 'dumb'
  const wrap = (open: number, close: number) => (s: string): string => (on ? `\x1b[${open}m${s}\x1b[${close}m` : s)
  return { bold: wrap(1, 22), dim: wrap(2, 22), green: wrap(32, 39), red: wrap(31, 39), cyan: wrap(36, 39) }
}
