// The seed plugin in AssemblyScript: Nakama's server-runtime documentation
// examples for server-to-server RPCs and HTTP handlers, as plugins/seed does
// them in Rust, with the same outputs, errors and log lines.
//
// - server_rpc: refuses user calls in plugin code (PERMISSION_DENIED), as
//   Nakama's ServerRPC example; returns {"ok":true}.
// - server_rpc_flagged: the same RPC, refused by the host instead: it is
//   registered server-only and has no guard.
// - http_handler_path: parses the payload as JSON, logs it and returns
//   {"message":<payload>} (Nakama's HttpHandler).
// - custom_rpc_func_id: the same, but refuses user calls first (Nakama's
//   customFuncRpc).
// - GET /test: Nakama's RegisterHttp example, "You hit the new endpoint!".

import { Code, Context, Json, Registrar, Result, err, http, initModule, logger, ok, utf8 } from "warden-sdk";
import { debugQuote } from "./debug";
export { warden_abi_v1, warden_handle } from "warden-sdk";

/** The response of the server-to-server RPCs (the examples' "<JsonResponse>"). */
const OK_RESPONSE = '{"ok":true}';

/** isUserCall reports whether a user made the call: server-to-server calls never carry a user ID. */
function isUserCall(ctx: Context): bool {
  const id = ctx.userId;
  return id != null && id.length > 0;
}

/** serverRpc may only be called server to server; it ignores its payload. */
function serverRpc(ctx: Context, _payload: Uint8Array): Result<Uint8Array> {
  if (isUserCall(ctx)) {
    logger.error("rpc was called by a user");
    return err<Uint8Array>(Code.PERMISSION_DENIED, "rpc is only callable via server to server");
  }
  // Valid server to server RPC call, continue executing the RPC...
  return ok(utf8.encode(OK_RESPONSE));
}

/** serverRpcFlagged is serverRpc without the guard: the host refuses user calls because it is registered server-only. */
function serverRpcFlagged(_ctx: Context, _payload: Uint8Array): Result<Uint8Array> {
  return ok(utf8.encode(OK_RESPONSE));
}

/** httpHandler parses the payload as JSON (else INVALID_ARGUMENT) and returns it wrapped: {"message":<payload>}. */
function httpHandler(_ctx: Context, payload: string): Result<string> {
  const message = Json.parse(payload);
  if (message.isErr) return message.forward<string>();
  logger.info("Message: " + message.value.toString());
  return ok(Json.object().set("message", message.value).toString());
}

/** customRpcFunc refuses user calls, then behaves as httpHandler. */
function customRpcFunc(ctx: Context, payload: string): Result<string> {
  logger.info("payload: " + debugQuote(payload));
  if (isUserCall(ctx)) {
    // Reject non server-to-server call.
    return err<string>(Code.PERMISSION_DENIED, "Cannot invoke this function from user session");
  }
  return httpHandler(ctx, payload);
}

/** testEndpoint is Nakama's RegisterHttp example: GET /test answers "You hit the new endpoint!". */
function testEndpoint(_ctx: Context, _body: Uint8Array): Result<Uint8Array> {
  const e = http.addHeader("Content-Type", "text/plain; charset=utf-8");
  if (e != null) return err<Uint8Array>(e.code, e.message);
  return ok(utf8.encode("You hit the new endpoint!"));
}

function init(r: Registrar): void {
  r.rpc("server_rpc", serverRpc);
  r.serverOnlyRpc("server_rpc_flagged", serverRpcFlagged);
  r.rpcText("http_handler_path", httpHandler);
  r.rpcText("custom_rpc_func_id", customRpcFunc);
  r.http("/test", testEndpoint, "GET");
}

export function warden_init(): i32 {
  return initModule(init);
}
