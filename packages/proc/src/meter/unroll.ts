// Unrolling small loops once, before metering, so that their back-edge fuel check runs
// every second iteration instead of every one. In a ~7-instruction loop (a sieve's inner
// loop) the check — a subtract and a branch — is a large share of the work; halving the
// checks halves that share. The bound on unchecked work still holds: between two checks
// each instruction of the (unrolled) code runs at most once.
//
//   loop $L  B  end          becomes   block $L$ww_exit
//                                        loop $L
//                                          block $L$ww_c1  B'[br $L → br $L$ww_c1]  br $L$ww_exit  end
//                                          B
//                                        end
//                                      end
//
// The first copy's "continue" goes to the second copy (a forward branch: no check); its
// fall-through leaves the loop, as B's did (a loop that never falls through needs no
// $L$ww_exit). Labels inside the copy get fresh names (Binaryen wants them unique).
// Only loops without values, with at most MAX_UNROLL expressions, are unrolled: big
// bodies gain nothing and would only grow the module.

import type binaryenNs from 'binaryen'
import { rewrite, type Kinds } from './walk.js'

type Binaryen = typeof binaryenNs

/** Expressions in a loop body that is still worth unrolling. */
export const MAX_UNROLL = 96

interface W {
  Loop: { getName(e: number): string | null; setName(e: number, n: string): void; getBody(e: number): number }
  Block: { getName(e: number): string | null; setName(e: number, n: string): void }
  Break: { getName(e: number): string; setName(e: number, n: string): void }
  Switch: {
    getNumNames(e: number): number; getNameAt(e: number, i: number): string; setNameAt(e: number, i: number, n: string): void
    getDefaultName(e: number): string; setDefaultName(e: number, n: string): void
  }
}

/** `body` with its small loops unrolled once; counts them in `stats.unrolled`. */
export function unrollSmallLoops(b: Binaryen, m: binaryenNs.Module, k: Kinds, body: number, stats: { unrolled: number }): number {
  const w = b as unknown as W
  let copies = 0
  return rewrite(b, k, body, {
    visit: (e, kind) => {
      if (kind !== 'Loop') return e
      const name = w.Loop.getName(e)
      // A loop that never falls through (it ends in `br $L`) is typed unreachable.
      const type = b.getExpressionType(e)
      if (!name || (type !== b.none && type !== b.unreachable)) return e
      const inner = w.Loop.getBody(e)
      if (!worthIt(b, k, w, inner, name)) return e
      const c1 = `${name}$ww_c1`
      const exit = `${name}$ww_exit`
      const first = m.copyExpression(inner)
      // Fresh names for the copy's own labels; its "continue" goes on to the second copy.
      const suffix = `$ww_u${++copies}`
      const renamed = (n: string): string => (n === name ? c1 : own.has(n) ? n + suffix : n)
      const own = new Set<string>()
      rewrite(b, k, first, {
        enter: (x, kx) => {
          const n = kx === 'Block' ? w.Block.getName(x) : kx === 'Loop' ? w.Loop.getName(x) : null
          if (n) own.add(n)
        },
        visit: (x) => x,
      })
      rewrite(b, k, first, {
        visit: (x, kx) => {
          if (kx === 'Break') w.Break.setName(x, renamed(w.Break.getName(x)))
          else if (kx === 'Switch') {
            for (let i = 0; i < w.Switch.getNumNames(x); i++) w.Switch.setNameAt(x, i, renamed(w.Switch.getNameAt(x, i)))
            w.Switch.setDefaultName(x, renamed(w.Switch.getDefaultName(x)))
          } else if (kx === 'Block' || kx === 'Loop') {
            const n = w[kx].getName(x)
            if (n) w[kx].setName(x, n + suffix)
          }
          return x
        },
      })
      stats.unrolled++
      if (type === b.unreachable) return m.loop(name, m.block(null, [m.block(c1, [first]), inner], b.unreachable))
      return m.block(exit, [m.loop(name, m.block(null, [m.block(c1, [first, m.br(exit)]), inner]))])
    },
  })
}

/** Small, and it loops (a branch back to it). */
function worthIt(b: Binaryen, k: Kinds, w: W, body: number, name: string): boolean {
  let size = 0
  let backEdge = false
  rewrite(b, k, body, {
    visit: (x, kind) => {
      size++
      if (kind === 'Break' && w.Break.getName(x) === name) backEdge = true
      if (kind === 'Switch') {
        for (let i = 0; i < w.Switch.getNumNames(x); i++) if (w.Switch.getNameAt(x, i) === name) backEdge = true
        if (w.Switch.getDefaultName(x) === name) backEdge = true
      }
      return x
    },
  })
  return backEdge && size <= MAX_UNROLL
}
