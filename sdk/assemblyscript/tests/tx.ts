// Test entry: db.transaction against the fake host of tx.test.mjs, which
// serves the warden_v1 imports (and WASI's poll_oneoff) from JavaScript.

import { db, Tx } from "../assembly/db";
import { RpcError } from "../assembly/error";
import { TxMode } from "../assembly/abi";

let runs = 0;

function bump(tx: Tx): RpcError | null {
  runs++;
  return tx.exec("UPDATE t SET v = v + 1").error;
}

/** runTx runs bump in db.transaction; returns how often bump ran. */
export function runTx(): i32 {
  runs = 0;
  lastStatus = 0;
  const e = db.transaction(TxMode.READ_WRITE, bump);
  if (e != null) lastStatus = e.status;
  return runs;
}

/** lastStatus is the status of runTx's error, 0 when it succeeded. */
export let lastStatus: i32 = 0;
