/** Resolves when `done` settles or `signal` aborts (Ctrl-C ends a stream cleanly). */
export function untilAborted(signal: AbortSignal, done: Promise<unknown>): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve()
    const onAbort = (): void => resolve()
    signal.addEventListener('abort', onAbort, { once: true })
    void done.finally(() => { signal.removeEventListener('abort', onAbort); resolve() })
  })
}
