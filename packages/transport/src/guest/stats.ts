// Counters of one guest's transport.

export class GuestStats {
  /** Frames the guest sent (ww.send). */
  framesIn = 0
  /** Frames written into the guest (ww.recv / ww.poll). */
  framesOut = 0
  bytesIn = 0
  bytesOut = 0
  /** Frames that went through an intermediate host buffer (multi-segment in; every frame of the copying transport). */
  copiedFrames = 0
  /** Times ww.recv found nothing queued and the guest waited. */
  waits = 0

  toJSON(): Record<string, number> {
    const { framesIn, framesOut, bytesIn, bytesOut, copiedFrames, waits } = this
    return { framesIn, framesOut, bytesIn, bytesOut, copiedFrames, waits }
  }
}
