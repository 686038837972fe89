// Small writers shared by the session and call builders.
import { StructBuilder } from "../capnp/builder";
import { Exception } from "./schema";

export function writeException(ex: StructBuilder, reason: string, type: u16): void {
  ex.setText(Exception.P_reason, reason);
  ex.setU16(Exception.F_type, type);
}
