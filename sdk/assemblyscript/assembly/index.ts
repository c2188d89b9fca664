// Warden SDK for AssemblyScript: write Warden RPC plugins as WebAssembly
// modules.
//
// A plugin registers its RPCs in an init function and exports the ABI entry
// points:
//
//   import { Context, Registrar, Result, initModule, ok } from "warden-sdk";
//   export { warden_abi_v1, warden_handle } from "warden-sdk";
//
//   function echo(ctx: Context, payload: Uint8Array): Result<Uint8Array> {
//     return ok(payload);
//   }
//
//   function init(r: Registrar): void {
//     r.rpc("echo", echo);
//   }
//
//   export function warden_init(): i32 {
//     return initModule(init);
//   }
//
// The layers: env.ts is the raw warden_v1 ABI, one import per host function
// (see abi/ABI.md), and abi.ts its numbers; the rest is a safe API over
// them: Context, Result and RpcError, logger, db, Json, http (custom
// handlers' responses and outbound requests), utf8, and
// timeNow and randomBytes. A failed Result fails the call with its code and
// message; abort (routed to the host's panic) fails it with code 13 and
// discards the instance.

export { ABI_VERSION, CtxKey, Engine, Flag, Level, Limit, Status, TxMode, statusName } from "./abi";
export { Code, Result, RpcError, codeName, err, ok } from "./error";
export { Context } from "./context";
export { KeyValue } from "./codec";
export { logger } from "./log";
export { db, Tx } from "./db";
export { BUSY_BACKOFF_NS, MAX_TX_ATTEMPTS } from "./retry";
export { Response } from "./fetch";
export { Kind, Row, Rows, Value } from "./value";
export { Json, JsonKind, MAX_DEPTH, formatFloat, writeString } from "./json/index";
export {
  Handler, InitFn, Registrar, TextHandler, http, initModule, warden_abi_v1, warden_handle,
} from "./plugin";
export { randomBytes, randomFill, timeNow } from "./util";
export { wardenAbort } from "./abort";

import * as utf8 from "./utf8";
export { utf8 };
