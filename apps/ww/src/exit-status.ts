// A process's end as the CLI tells it: @ww/interface's one ExitStatus (read off the wire
// by @ww/host's codec, field by field), in words, and the shell status a command mirrors
// it with (schemas/README.md, "Exit statuses").
import { readExitStatus } from '@ww/host/exit-status'
import { shellStatus, type ExitStatus } from '@ww/interface'

export { readExitStatus as readExit, shellStatus, type ExitStatus as Exit }

export function describeExit(e: ExitStatus): string {
  switch (e.kind) {
    case 'exited': return `exited ${e.code}`
    case 'trapped': return `trapped (${e.trap ?? 'other'}): ${e.reason}`
    case 'killed': return `killed (${e.reason ?? e.by?.kind ?? 'requested'})`
    case 'limit': return `over its ${e.which} limit${e.detail ? `: ${e.detail}` : ''}`
    case 'hostLost': return `lost with its host ${e.host}`
    case 'failedToStart': return `failed to start: ${e.reason}`
  }
}
