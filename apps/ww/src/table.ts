// Plain-text tables for the human view: a header row, columns padded to their widest
// cell (numbers right-aligned), colour applied after padding so widths stay right.
export interface Column<T> {
  header: string
  get(row: T): string | number
  align?: 'left' | 'right'
  paint?: (text: string, row: T) => string
}

export function table<T>(rows: readonly T[], columns: Column<T>[], header: (s: string) => string = (s) => s): string {
  const cells = rows.map((r) => columns.map((c) => String(c.get(r))))
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i]!.length)))
  const pad = (text: string, i: number): string => {
    const c = columns[i]!
    const right = c.align === 'right' || (c.align === undefined && typeof (rows[0] && c.get(rows[0])) === 'number')
    return right ? text.padStart(widths[i]!) : text.padEnd(widths[i]!)
  }
  const lines = [header(columns.map((c, i) => pad(c.header, i)).join('  ').trimEnd())]
  rows.forEach((r, ri) => {
    lines.push(columns.map((c, i) => (c.paint ? c.paint(pad(cells[ri]![i]!, i), r) : pad(cells[ri]![i]!, i))).join('  ').trimEnd())
  })
  return lines.join('\n') + '\n'
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)}m${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')}s`
  return `${Math.floor(ms / 3_600_000)}h${String(Math.floor((ms % 3_600_000) / 60_000)).padStart(2, '0')}m`
}

export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)}GiB`
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)}MiB`
  if (n >= 1024) return `${Math.round(n / 1024)}KiB`
  return `${n}B`
}
