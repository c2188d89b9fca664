import { Context, Json, Registrar, Result, initModule, ok, utf8 } from "warden-sdk";
export { warden_abi_v1, warden_handle } from "warden-sdk";

function echo(_ctx: Context, payload: Uint8Array): Result<Uint8Array> {
  return ok(payload);
}

function whoami(ctx: Context, _payload: Uint8Array): Result<Uint8Array> {
  const v = Json.object()
    .set("user_id", Json.strOrNull(ctx.userId))
    .set("username", Json.strOrNull(ctx.username));
  return ok(utf8.encode(v.toString()));
}

function init(r: Registrar): void {
  r.rpc("echo", echo);
  r.rpc("whoami", whoami);
}

export function warden_init(): i32 {
  return initModule(init);
}
