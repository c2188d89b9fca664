// Retries of a transaction that failed with DB_BUSY (ABI.md section 6): the
// bound, the backoff and the loop, apart from the host calls so that they
// are plain functions (db.transaction drives them).

/** MAX_TX_ATTEMPTS bounds the attempts of db.transaction. */
export const MAX_TX_ATTEMPTS: i32 = 5;

/**
 * BUSY_BACKOFF_NS is the first backoff: before attempt k+1 the transaction
 * sleeps a random time between half and all of BUSY_BACKOFF_NS·2^(k-1),
 * so 2.5-5, 5-10, 10-20 and 20-40 ms, at most 75 ms in all.
 */
export const BUSY_BACKOFF_NS: u64 = 5_000_000;

/** backoff returns the sleep before attempt `attempt + 1` (from 1), given 32 random bits. */
export function backoff(attempt: i32, random: u32): u64 {
  const d = BUSY_BACKOFF_NS << <u64>(attempt - 1);
  return d / 2 + <u64>random % (d / 2 + 1);
}

/**
 * retryBusy runs `attempt`, which returns true when it failed with
 * DB_BUSY, until it returns false or has run MAX_TX_ATTEMPTS times; before
 * each retry it sleeps backoff(k, random()) with `sleep`. It returns the
 * number of attempts.
 */
export function retryBusy(attempt: () => bool, sleep: (ns: u64) => void, random: () => u32): i32 {
  let k = 1;
  while (attempt() && k < MAX_TX_ATTEMPTS) {
    sleep(backoff(k, random()));
    k++;
  }
  return k;
}
