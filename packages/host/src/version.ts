/** Reported in heartbeats, so a cluster can see mixed versions. */
export const VERSION = '0.1.0'
