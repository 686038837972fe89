// How a process ended: the one ExitStatus union of @ww/interface, re-exported where
// scheduler users look for it.

export { isNormal, describeStatus, type ExitStatus, type Pid, type KilledBy, type LimitKind } from '@ww/interface'
