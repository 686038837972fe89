// Cap'n Proto pointer encoding (https://capnproto.org/encoding.html): the low two bits of
// a pointer word's first half say what it is.

export enum PointerKind { Struct = 0, List = 1, Far = 2, Other = 3 }

export enum ElementSize {
  Void = 0, Bit = 1, Byte = 2, TwoBytes = 3, FourBytes = 4, EightBytes = 5,
  Pointer = 6, InlineComposite = 7,
}

/** Signed word offset of a struct or list pointer (30 bits). */
@inline export function pointerOffset(lo: u32): i32 {
  return (<i32>lo) >> 2;
}
