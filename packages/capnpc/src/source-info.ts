// Doc comments from the request's sourceInfo, read through a minimal layout of
// Node.SourceInfo: { id @0 :UInt64; docComment @1 :Text; members @2 :List(Member) }.
//
// capnp-ts's own binding declares SourceInfo with the startByte/endByte fields of newer
// capnp (16 data bytes); capnp 0.9 writes 8, and capnp-ts then "resizes" the list on
// read — a shallow copy that breaks the elements' relative pointers. Reading with the
// older, smaller layout avoids the resize and works for both.

import * as $ from 'capnp-ts'

class Member extends $.Struct {
  static override readonly _capnp = { displayName: 'Member', id: 'c2ba9038898e1fa2', size: new $.ObjectSize(0, 1) }
  getDocComment(): string { return $.Struct.getText(0, this) }
}
const MemberList = $.CompositeList(Member)

class SourceInfo extends $.Struct {
  static override readonly _capnp = { displayName: 'SourceInfo', id: 'f38e1de3041357ae', size: new $.ObjectSize(8, 2) }
  getId(): bigint { return $.Struct.getUint64(0, this) }
  getDocComment(): string { return $.Struct.getText(0, this) }
  getMembers(): $.List<Member> { return $.Struct.getList(1, MemberList, this) }
}
const SourceInfoList = $.CompositeList(SourceInfo)

/** Node id → its doc comment and its members' (fields', enumerants', methods') doc comments. */
export function readDocs(request: $.Struct): Map<bigint, { doc: string; members: string[] }> {
  const out = new Map<bigint, { doc: string; members: string[] }>()
  // CodeGeneratorRequest.sourceInfo is pointer 3.
  for (const si of $.Struct.getList(3, SourceInfoList, request).toArray()) {
    out.set(si.getId(), { doc: si.getDocComment(), members: si.getMembers().map((m) => m.getDocComment()) })
  }
  return out
}
