// Why a received frame was rejected. AssemblyScript has no exceptions, so readers record
// the first error on their message and return defaults from then on.
export enum ReadError {
  None = 0,
  Truncated = 1, // shorter than its segment table says
  BadSegmentTable = 2, // zero or too many segments
  OutOfBounds = 3, // a pointer's target leaves its segment
  BadFar = 4, // a far pointer to a missing segment or a malformed landing pad
  WrongKind = 5, // a struct pointer where a list was expected, etc.
  TraversalLimit = 6, // more words read than the frame could honestly hold (amplification)
  DepthLimit = 7, // nesting too deep (a pointer cycle)
  BadText = 8, // text without its NUL terminator
}

export function readErrorName(e: ReadError): string {
  switch (e) {
    case ReadError.None: return "none";
    case ReadError.Truncated: return "truncated frame";
    case ReadError.BadSegmentTable: return "bad segment table";
    case ReadError.OutOfBounds: return "pointer out of bounds";
    case ReadError.BadFar: return "bad far pointer";
    case ReadError.WrongKind: return "unexpected pointer kind";
    case ReadError.TraversalLimit: return "traversal limit exceeded";
    case ReadError.DepthLimit: return "nesting limit exceeded";
    case ReadError.BadText: return "text not NUL-terminated";
    default: return "unknown";
  }
}
