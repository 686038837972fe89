// The exports every ww guest carries. Re-export from the guest's entry file:
//   export * from "../assembly/exports";
import { asyncifyData } from "./abi";

/** Marker: this module speaks the ww guest ABI v1. */
export function ww_abi_v1(): void {}

/** Address of the asyncify data header ({ i32 current, i32 end }, then the stack area). */
export function ww_asyncify_data(): i32 {
  return <i32>asyncifyData();
}
