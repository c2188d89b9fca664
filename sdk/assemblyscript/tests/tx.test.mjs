// db.transaction's DB_BUSY retries, run against a fake host in JavaScript:
// the warden_v1 imports it uses, and WASI's poll_oneoff on a fake clock
// that each poll advances by the time asked, so that sleeps are recorded
// and cost no time. Compiled from tests/tx.ts by `npm test`.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";

const MAX_TX_ATTEMPTS = 5;
const BUSY_BACKOFF_NS = 5_000_000n;
const DB_BUSY = -11;

const wasm = await WebAssembly.compile(await readFile(new URL("../build/tx.wasm", import.meta.url)));

/** start instantiates the test module on a fresh fake host. */
async function start({ commitBusy = 0, execStatus = 0 } = {}) {
  const host = { commitBusy, log: [], sleeps: [], now: 1_000_000_000n, lastErr: "" };
  let mem;
  const fail = (st, msg) => ((host.lastErr = msg), st);
  const text = (p, n) => new TextDecoder().decode(new Uint8Array(mem.buffer, p, n));
  const imports = {
    env: { abort: () => { throw new Error("abort"); } },
    warden_v1: {
      time_now: () => host.now,
      random_fill: (p, n) => { new Uint8Array(mem.buffer, p, n).fill(0xa5); return 0; },
      last_error: (p, cap) => {
        const b = new TextEncoder().encode(host.lastErr);
        if (b.length <= cap) new Uint8Array(mem.buffer, p, b.length).set(b);
        return BigInt(b.length);
      },
      db_begin: (mode) => (host.log.push(`BEGIN ${mode}`), 0),
      db_commit: () => {
        host.log.push("COMMIT");
        if (host.commitBusy === 0) return 0;
        host.commitBusy--;
        return fail(DB_BUSY, "could not serialize access");
      },
      db_rollback: () => (host.log.push("ROLLBACK"), 0),
      db_exec: (p, n) => {
        host.log.push(text(p, n));
        return execStatus ? BigInt(fail(execStatus, "fake failure")) : 1n;
      },
    },
    wasi_snapshot_preview1: {
      poll_oneoff: (subs, events, nsubs, nevents) => {
        const v = new DataView(mem.buffer);
        assert.equal(nsubs, 1);
        assert.equal(v.getUint8(subs + 8), 0, "a clock subscription");
        const ns = v.getBigUint64(subs + 24, true);
        host.sleeps.push(ns);
        host.now += ns;
        v.setUint32(nevents, 1, true);
        return 0;
      },
    },
  };
  const inst = await WebAssembly.instantiate(wasm, imports);
  mem = inst.exports.memory;
  inst.exports._initialize();
  return { host, sdk: inst.exports };
}

test("db.transaction retries DB_BUSY with a growing, jittered sleep, up to the bound", async () => {
  for (const [busy, want] of [[0, 1], [2, 3], [MAX_TX_ATTEMPTS - 1, MAX_TX_ATTEMPTS], [100, MAX_TX_ATTEMPTS]]) {
    const { host, sdk } = await start({ commitBusy: busy });
    assert.equal(sdk.runTx(), want, `busy ${busy}: attempts`);
    assert.equal(sdk.lastStatus.value, busy >= MAX_TX_ATTEMPTS ? DB_BUSY : 0, `busy ${busy}: status`);
    assert.equal(host.sleeps.length, want - 1, `busy ${busy}: sleeps`);
    host.sleeps.forEach((ns, i) => {
      const max = BUSY_BACKOFF_NS << BigInt(i);
      assert.ok(ns >= max / 2n && ns <= max, `sleep ${i + 1} = ${ns} ns, want ${max / 2n}..${max}`);
    });
    assert.equal(host.log.filter((l) => l === "BEGIN 1").length, want, `busy ${busy}: begins`);
    assert.ok(host.log.filter((l) => l === "ROLLBACK").length >= want - 1, `busy ${busy}: ${host.log}`);
  }
});

test("db.transaction does not retry other errors", async () => {
  for (const st of [-7, -14, -12]) { // DB_ERROR, DB_READ_ONLY, TX_FAILED
    const { host, sdk } = await start({ execStatus: st });
    assert.equal(sdk.runTx(), 1, `status ${st}: attempts`);
    assert.equal(sdk.lastStatus.value, st);
    assert.equal(host.sleeps.length, 0);
  }
  // A busy statement is retried, whatever fn returns.
  const { sdk } = await start({ execStatus: DB_BUSY });
  assert.equal(sdk.runTx(), MAX_TX_ATTEMPTS);
  assert.equal(sdk.lastStatus.value, DB_BUSY);
});
