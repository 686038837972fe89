// The demo's input: a short text of our own, cut into chunks by line, and the count the
// demo checks the cluster's answer against.
export const TEXT = `A process in ww holds nothing it was not handed.
It reaches the cluster through one capability, its Host, spoken as Cap'n Proto in its own memory.
The host reads each message where the guest wrote it and writes the answer straight back.
Files, clocks and sockets come through a restricted WASI that denies what was not granted.
A guest can spawn children on this host or on another one, wait for them, or kill them.
Anchors are a tree of paths shared by every host, each host owning the subtree under its id.
Pubsub carries messages between processes on every host, in order per publisher.
When a guest misbehaves it dies alone, with a reason, and the host keeps running.`

export function chunks(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '')
}

export function countWords(s: string): number {
  return s.split(/[ \t\r\n]+/).filter(Boolean).length
}
