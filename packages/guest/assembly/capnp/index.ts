// Just enough Cap'n Proto for RPC: a single-segment builder and a bounds-checked reader.
export { MessageBuilder, StructBuilder, ListBuilder } from "./builder";
export { MessageReader, StructReader, ListReader } from "./reader";
export { ElementSize, PointerKind } from "./pointer";
export { ReadError, readErrorName } from "./errors";
export { copyPointer } from "./copy";
