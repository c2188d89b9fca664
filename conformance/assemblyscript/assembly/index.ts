// The conformance plugin in AssemblyScript (conformance/SPEC.md), written
// with the SDK's idiomatic layer so that the suite tests the SDK too.

import {
  Code, Context, CtxKey, Engine, Registrar, Result, RpcError, Rows, TxMode, Value,
  db, err, initModule, logger, ok, statusName, utf8,
} from "warden-sdk";
export { warden_abi_v1, warden_handle } from "warden-sdk";
import { httpRpc } from "./outbound";

/** ctx prints the context keys of SPEC.md in order, each with the SDK getter that reads it. */
function ctxRpc(ctx: Context, _payload: Uint8Array): Result<Uint8Array> {
  const out = new Lines();
  out.kv("user_id", ctx.userId);
  out.kv("username", ctx.username);
  out.kv("user_session_exp", ctx.get(CtxKey.USER_SESSION_EXP));
  out.kv("var.tier", ctx.var("tier"));
  out.kv("var.missing", ctx.var("missing"));
  out.kv("header.X-Conformance", ctx.header("X-Conformance"));
  out.kv("query.q", ctx.query("q"));
  out.kv("env.MODE", ctx.envVar("MODE"));
  out.kv("env.missing", ctx.envVar("missing"));
  out.kv("execution_mode", ctx.executionMode);
  out.kv("node", ctx.node);
  out.kv("rpc_id", ctx.rpcId);
  out.kv("plugin_name", ctx.pluginName);
  out.presence("trace_id", ctx.traceId);
  out.presence("client_ip", ctx.clientIp);
  out.presence("client_port", ctx.get(CtxKey.CLIENT_PORT));
  const headers = ctx.headers;
  let n = 0;
  for (let i = 0; i < headers.length; i++) if (headers[i].key == "X-Conformance") n++;
  out.line("headers.count=" + n.toString());
  out.line("vars.count=" + ctx.vars.length.toString());
  return ok(out.bytes());
}

function logRpc(_ctx: Context, payload: string): Result<string> {
  logger.debug("debug " + payload);
  logger.info("info " + payload);
  logger.warn("warn " + payload);
  logger.error("error " + payload);
  return ok((<i32>logger.level()).toString());
}

/** The db table: one declared type per column (SPEC.md, db step 1). */
const CREATE = "CREATE TABLE IF NOT EXISTS conf_values (id BIGINT PRIMARY KEY, i BIGINT, f DOUBLE PRECISION, t TEXT, b BLOB)";
const INSERT = "INSERT INTO conf_values (id, i, f, t, b) VALUES ($1, $2, $3, $4, $5)";

/** The parameters of INSERT for id: v in the column of its kind, NULL in the others. */
function insertArgs(id: i64, v: Value): Value[] {
  const args = [Value.int(id), Value.null(), Value.null(), Value.null(), Value.null()];
  if (!v.isNull) args[<i32>v.kind] = v;
  return args;
}

/** The values inserted by db, by id. */
function dbValues(): Value[] {
  const blob = new Uint8Array(3);
  blob[0] = 0x00;
  blob[1] = 0xff;
  blob[2] = 0x10;
  return [
    Value.null(), Value.int(i64.MIN_VALUE), Value.int(i64.MAX_VALUE), Value.int(0),
    Value.float(0.5), Value.float(Infinity), Value.float(-Infinity), Value.float(NaN),
    Value.text(""), Value.text("héllo, 世界"), Value.blob(new Uint8Array(0)), Value.blob(blob),
  ];
}

function dbRpc(_ctx: Context, _payload: Uint8Array): Result<Uint8Array> {
  const out = new Lines();
  // 1. Schema.
  out.line("create=" + status(db.exec(CREATE).error));
  // 2. Every value type, in one write transaction.
  out.line("insert=" + status(insertAll()));
  // 3. Read them back.
  const rows = db.query("SELECT id, i, f, t, b FROM conf_values ORDER BY id");
  if (rows.isErr) {
    out.line("select=" + status(rows.error));
  } else {
    printRows(out, rows.value);
  }
  // 4. A failed statement fails the transaction until rollback.
  const tx = db.begin(TxMode.READ_WRITE);
  out.line("begin=" + status(tx.error));
  out.line("bad=" + status(db.exec("INSERT INTO conf_missing_table VALUES (1)").error));
  out.line("after_bad=" + status(db.exec(INSERT, insertArgs(100, Value.null())).error));
  out.line("commit_failed=" + status(db.commit()));
  out.line("rollback=" + status(db.rollback()));
  const count = db.query("SELECT COUNT(*) FROM conf_values WHERE id = 100");
  out.line("count_100=" + (count.isErr ? status(count.error) : count.value.row(0).get(0).asInt().toString()));
  // 5. A write in a read-only transaction.
  const ro = db.begin(TxMode.READ_ONLY);
  out.line("begin_read=" + status(ro.error));
  out.line("write_in_read=" + status(db.exec(INSERT, insertArgs(101, Value.null())).error));
  out.line("rollback_read=" + status(db.rollback()));
  // 6. The engine.
  const engine = db.engine();
  out.line("engine=" + (engine == Engine.SQLITE ? "sqlite" : engine == Engine.POSTGRESQL ? "postgresql" : engine == Engine.NONE ? "none" : (<i32>engine).toString()));
  // 7. Cleanup.
  const deleted = db.exec("DELETE FROM conf_values");
  out.line("deleted=" + (deleted.isErr ? status(deleted.error) : deleted.value.toString()));
  return ok(out.bytes());
}

/** Inserts dbValues() in one write transaction; the error of the first failed step, or null. */
function insertAll(): RpcError | null {
  const tx = db.begin(TxMode.READ_WRITE);
  if (tx.isErr) return tx.error;
  const vals = dbValues();
  for (let i = 0; i < vals.length; i++) {
    const r = tx.value.exec(INSERT, insertArgs(i + 1, vals[i]));
    if (r.isErr) {
      tx.value.rollback();
      return r.error;
    }
  }
  return tx.value.commit();
}

function printRows(out: Lines, rows: Rows): void {
  out.line("columns=" + rows.columns.join(","));
  for (let i = 0; i < rows.length; i++) {
    const row = rows.row(i);
    let line = row.get(0).asInt().toString();
    for (let c = 1; c < 5; c++) line += "|" + cell(row.get(c));
    out.line(line);
  }
}

/** One cell of a row, "null" or "<type>:<value>": see SPEC.md, db step 3. */
function cell(v: Value): string {
  switch (v.kind) {
    case 1: return "int:" + v.asInt().toString();
    case 2: return "float:" + hex64(reinterpret<u64>(v.asFloat()));
    case 3: return "text:" + hex(v.asBlob());
    case 4: return "blob:" + hex(v.asBlob());
  }
  return "null";
}

/** "ok", or the ABI status name of a failed host call in lowercase. */
function status(e: RpcError | null): string {
  return e == null ? "ok" : lower(statusName(e.status));
}

/** error fails with the code in the payload, a decimal number (the host maps codes outside 1..16 to 13). */
function errorRpc(_ctx: Context, payload: string): Result<string> {
  const s = payload.trim();
  const neg = s.startsWith("-");
  let n: i64 = 0;
  let digits = 0;
  for (let i = neg ? 1 : 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39 || n > 100000000) return err<string>(Code.INVALID_ARGUMENT, "payload is not a number");
    n = n * 10 + (c - 0x30);
    digits++;
  }
  if (digits == 0) return err<string>(Code.INVALID_ARGUMENT, "payload is not a number");
  if (neg) n = -n;
  return Result.fail<string>(new RpcError(<Code>(<i32>n), "error " + n.toString()));
}

/** panic aborts: the SDK routes AssemblyScript's abort (here from throw) to the host's panic, with file:line. */
function panicRpc(_ctx: Context, _payload: Uint8Array): Result<Uint8Array> {
  throw new Error("conformance panic");
}

function echoRpc(_ctx: Context, payload: Uint8Array): Result<Uint8Array> {
  return ok(payload);
}

function textRpc(_ctx: Context, payload: string): Result<string> {
  return ok(utf8.codePoints(payload).toString() + ":" + payload);
}

function whoamiRpc(ctx: Context, _payload: Uint8Array): Result<Uint8Array> {
  return ok(utf8.encode(ctx.userId != null ? "user" : "server"));
}

function init(r: Registrar): void {
  r.rpc("ctx", ctxRpc);
  r.rpcText("log", logRpc);
  r.serverOnlyRpc("db", dbRpc);
  r.rpcText("error", errorRpc);
  r.rpc("panic", panicRpc);
  r.rpc("echo", echoRpc);
  r.rpcText("text", textRpc);
  r.rpc("http", httpRpc);
  r.rpc("whoami", whoamiRpc);
}

export function warden_init(): i32 {
  return initModule(init);
}

/** Lines builds the plain-text output: every line ends with \n. */
class Lines {
  private parts: string[] = [];

  line(s: string): void {
    this.parts.push(s);
    this.parts.push("\n");
  }

  kv(key: string, value: string | null): void {
    this.line(key + "=" + (value != null ? value : "<absent>"));
  }

  presence(key: string, value: string | null): void {
    this.line(key + (value != null ? "=<present>" : "=<absent>"));
  }

  bytes(): Uint8Array {
    return utf8.encode(this.parts.join(""));
  }
}

const HEX = "0123456789abcdef";

function hex(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += HEX.charAt(b[i] >> 4) + HEX.charAt(b[i] & 15);
  return s;
}

function hex64(v: u64): string {
  let s = "";
  for (let i = 60; i >= 0; i -= 4) s += HEX.charAt(<i32>((v >> <u64>i) & 15));
  return s;
}

/** ASCII lower case, for status names. */
function lower(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
  }
  return out;
}
