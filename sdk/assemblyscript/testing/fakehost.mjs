// A fake Warden host for a plugin's unit tests under `node --test`: it
// runs the built .wasm (AssemblyScript, or C with wasi-libc) in Node with
// the warden_v1 imports implemented in JavaScript, as the server would,
// without a server. The context is empty but for what a call sets (an HTTP
// call's method, path and route), the database answers every statement
// with DB_ERROR, and logs are kept in `logs`.
//
//   import { FakeHost } from "warden-sdk/testing/fakehost.mjs";
//   const host = await FakeHost.start(readFileSync("greet.wasm"));
//   assert.equal(host.rpcText("greet", "ann"), "hello, ann");

import { WASI } from "node:wasi";
import { webcrypto } from "node:crypto";

const OK = 0, NOT_FOUND = -1, NOT_ALLOWED = -4, DB_ERROR = -7;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** FakeError is a call's failure: the code and message the plugin set. */
export class FakeError extends Error {
  constructor(code, message) {
    super(`code ${code}: ${message}`);
    this.code = code;
    this.rpcMessage = message;
  }
}

/** FakeHost is one plugin instance initialised on the fake host. */
export class FakeHost {
  /** start instantiates the module, runs its init and returns the host; it throws the FakeError init set. */
  static async start(wasm) {
    const h = new FakeHost();
    const mod = await WebAssembly.compile(wasm);
    const imports = { warden_v1: h.#imports() };
    let wasi = null;
    if (WebAssembly.Module.imports(mod).some((i) => i.module === "wasi_snapshot_preview1")) {
      wasi = new WASI({ version: "preview1", args: [], env: {}, returnOnExit: true });
      imports.wasi_snapshot_preview1 = wasi.wasiImport;
    }
    h.instance = await WebAssembly.instantiate(mod, imports);
    const ex = h.instance.exports;
    if (wasi) wasi.initialize(h.instance);
    else if (ex._initialize) ex._initialize();
    h.init = true;
    const rc = ex.warden_init();
    h.init = false;
    if (rc !== 0) throw h.#takeError();
    return h;
  }

  constructor() {
    this.rpcs = new Map();
    this.routes = new Map();
    this.logs = [];
    this.#reset({}, new Uint8Array());
  }

  /** rpc runs RPC `id` (any case) on `payload` (bytes or text) and returns its output bytes. */
  rpc(id, payload = "") {
    const hid = this.rpcs.get(id.toLowerCase());
    if (hid === undefined) throw new FakeError(5, `rpc ${id} is not registered`);
    this.#call(hid, { execution_mode: "rpc", rpc_id: id.toLowerCase() }, payload);
    return this.output;
  }

  /** rpcText is rpc with a text result. */
  rpcText(id, payload = "") {
    return dec.decode(this.rpc(id, payload));
  }

  /** http runs the handler of `pattern` as a request; it returns { status, headers, body } (body as text). */
  http(method, pattern, path, body = "") {
    const hid = this.routes.get(pattern);
    if (hid === undefined) throw new FakeError(5, `route ${pattern} is not registered`);
    const ctx = { execution_mode: "http", http_method: method, http_path: path, http_route: pattern };
    this.#call(hid, ctx, body);
    return { status: this.status, headers: this.headers, body: dec.decode(this.output) };
  }

  #reset(ctx, input) {
    this.ctx = ctx;
    this.input = typeof input === "string" ? enc.encode(input) : input;
    this.output = new Uint8Array();
    this.error = null;
    this.status = 200;
    this.headers = [];
  }

  #call(hid, ctx, input) {
    this.#reset(ctx, input);
    let rc;
    try {
      rc = this.instance.exports.warden_handle(hid, this.input.length);
    } catch (e) {
      throw new FakeError(13, this.panic ?? String(e)); // a trap: the server answers 13
    }
    if (rc !== 0) throw this.#takeError();
  }

  #takeError() {
    const e = this.error ?? [13, "failed without setting an error"];
    this.error = null;
    return new FakeError(e[0], e[1]);
  }

  #mem() {
    return new Uint8Array(this.instance.exports.memory.buffer);
  }

  #str(ptr, len) {
    return dec.decode(this.#mem().subarray(ptr, ptr + len));
  }

  // put applies the buffer convention: write when it fits, return the length.
  #put(v, dst, cap) {
    if (v.length <= cap) this.#mem().set(v, dst);
    return BigInt(v.length);
  }

  #fail(st, msg) {
    this.lastError = msg;
    return st;
  }

  #imports() {
    return {
      rpc_register: (p, n, hid, _flags) => {
        if (!this.init) return this.#fail(NOT_ALLOWED, "rpc_register is not allowed in handle");
        this.rpcs.set(this.#str(p, n).toLowerCase(), hid);
        return OK;
      },
      http_register: (p, n, _mp, _mn, hid, _flags) => {
        if (!this.init) return this.#fail(NOT_ALLOWED, "http_register is not allowed in handle");
        this.routes.set(this.#str(p, n), hid);
        return OK;
      },
      input_read: (off, dst, len) => {
        const part = this.input.subarray(off, off + len);
        this.#mem().set(part, dst);
        return part.length;
      },
      output_write: (p, n) => {
        const out = new Uint8Array(this.output.length + n);
        out.set(this.output);
        out.set(this.#mem().subarray(p, p + n), this.output.length);
        this.output = out;
        return OK;
      },
      error_set: (code, p, n) => {
        this.error = [code, this.#str(p, n)];
        return OK;
      },
      ctx_get: (p, n, dst, cap) => {
        const v = this.ctx[this.#str(p, n)];
        return v === undefined ? BigInt(NOT_FOUND) : this.#put(enc.encode(v), dst, cap);
      },
      log: (level, p, n) => {
        this.logs.push([level, this.#str(p, n)]);
        return OK;
      },
      log_level: () => 0,
      db_engine: () => 0,
      db_exec: () => BigInt(this.#fail(DB_ERROR, "the fake host has no database")),
      db_query: () => BigInt(this.#fail(DB_ERROR, "the fake host has no database")),
      db_begin: () => this.#fail(DB_ERROR, "the fake host has no database"),
      db_commit: () => this.#fail(DB_ERROR, "the fake host has no database"),
      db_rollback: () => this.#fail(DB_ERROR, "the fake host has no database"),
      result_read: () => BigInt(NOT_FOUND),
      last_error: (dst, cap) =>
        this.lastError === undefined ? BigInt(NOT_FOUND) : this.#put(enc.encode(this.lastError), dst, cap),
      panic: (p, n) => {
        this.panic = this.#str(p, n);
      },
      time_now: () => BigInt(Date.now()) * 1000000n,
      random_fill: (dst, len) => {
        webcrypto.getRandomValues(this.#mem().subarray(dst, dst + len));
        return OK;
      },
      output_set_status: (s) => {
        if (this.ctx.execution_mode !== "http") return this.#fail(NOT_ALLOWED, "not an HTTP handler");
        this.status = s;
        return OK;
      },
      output_add_header: (np, nn, vp, vn) => {
        if (this.ctx.execution_mode !== "http") return this.#fail(NOT_ALLOWED, "not an HTTP handler");
        this.headers.push([this.#str(np, nn), this.#str(vp, vn)]);
        return OK;
      },
    };
  }
}
