// The http RPC of conformance/SPEC.md: outbound requests (ABI 1.2) to the
// runner's server, whose base URL is the env entry CONF_HTTP_BASE.

import { Code, Context, KeyValue, Response, Result, err, http, ok, statusName, utf8 } from "warden-sdk";

/** show renders one request's outcome as SPEC.md prints it. */
function show(name: string, r: Result<Response>): string {
  if (r.isErr) {
    const e = r.error!;
    // The message is "STATUS: host message"; the spec prints the host's part.
    const prefix = statusName(e.status) + ": ";
    const msg = e.message.startsWith(prefix) ? e.message.substring(prefix.length) : e.message;
    return name + "=" + statusName(e.status).toLowerCase() + "\n" + name + ".message=" + msg + "\n";
  }
  const res = r.value;
  const first = res.header("X-Reply");
  let n = 0;
  for (let i = 0; i < res.headers.length; i++) if (res.headers[i].key == "x-reply") n++;
  return name + ".status=" + res.status.toString() + "\n" +
    name + ".x-reply=" + (first != null ? first : "<absent>") + "\n" +
    name + ".x-reply.count=" + n.toString() + "\n" +
    name + ".body=" + res.text() + "\n";
}

/** httpRpc makes the four requests of SPEC.md's http RPC and prints their outcomes. */
export function httpRpc(ctx: Context, _payload: Uint8Array): Result<Uint8Array> {
  const base = ctx.envVar("CONF_HTTP_BASE");
  if (base == null) return err<Uint8Array>(Code.FAILED_PRECONDITION, "CONF_HTTP_BASE is not set");
  let out = show("get", http.get(base + "/get?x=1"));
  const headers = [new KeyValue("X-Conformance", "conf"), new KeyValue("Content-Type", "text/plain")];
  out += show("post", http.request("POST", base + "/post", headers, utf8.encode("héllo")));
  out += show("missing", http.post(base + "/missing", "text/plain", utf8.encode("x")));
  out += show("refused", http.get("http://example.com/conformance?secret=1"));
  return ok(utf8.encode(out));
}
