// A fault harness for ww clusters: hosts as OS processes, links as relays (delay, jitter,
// resets, partitions), network namespaces where the machine allows.
export { FaultCluster, type FaultClusterOptions, type FaultHost } from './cluster.js'
export { HostProcess, wwBin, type HostEvent } from './host-process.js'
export { Netns, NetnsUnavailableError, netnsUnavailable } from './netns.js'
export { Relay, CLEAN_LINK, type LinkFaults, type RelayOptions, type RelayStats } from './relay.js'
export { runLink, percentile, type LinkRun, type LinkRunOptions } from './link.js'
export { makeJob, countWords, JobRun, JobWorker, runJob, readCounts, type Job } from './wordcount.js'
