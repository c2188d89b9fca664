/*
 * warden_tx.h: transactions that retry DB_BUSY, for the C SDK (warden.h).
 *
 *     static int32_t bump(void *arg) {
 *         (void)arg;
 *         int64_t n = warden_exec("UPDATE hello_seen SET n = n + 1", NULL);
 *         return n < 0 ? (int32_t)n : WARDEN_OK;
 *     }
 *     ...
 *     int32_t st = warden_transaction(WARDEN_TX_READ_WRITE, bump, NULL);
 *
 * warden_transaction begins a transaction of mode, runs fn(arg) and commits
 * when fn returns WARDEN_OK (or any value >= 0); otherwise it rolls back
 * and returns fn's value. When begin, fn or commit gives WARDEN_DB_BUSY (a
 * lock held past the busy timeout on SQLite, a serialization failure or
 * deadlock on PostgreSQL), it rolls back, sleeps and runs fn again, up to
 * WARDEN_MAX_TX_ATTEMPTS (5) attempts in all: fn may run more than once and
 * must keep no state across attempts, and must return WARDEN_DB_BUSY when
 * a statement did. The sleep before attempt k+1 is random between half and
 * all of WARDEN_BUSY_BACKOFF_NS * 2^(k-1): 2.5-5, 5-10, 10-20 and 20-40 ms,
 * 75 ms at most in all. It waits in WASI's poll_oneoff, using no CPU; the
 * host serves it in slices of at most 50 ms, so a call's deadline ends it
 * within a slice. Other failures end it at once. It returns WARDEN_OK or
 * the last attempt's status.
 *
 * Use it as warden.h: include it after warden.h, in the file that defines
 * WARDEN_IMPLEMENTATION too. Tests may define WARDEN_SLEEP_NS(ns) to stand
 * in for the sleep.
 */
#ifndef WARDEN_TX_H
#define WARDEN_TX_H

#include "warden.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { WARDEN_MAX_TX_ATTEMPTS = 5 };
#define WARDEN_BUSY_BACKOFF_NS 5000000ULL

/* warden_tx_fn is the body of a transaction: a status, or >= 0 for success. */
typedef int32_t (*warden_tx_fn)(void *arg);

int32_t warden_transaction(int32_t mode, warden_tx_fn fn, void *arg);

/* warden_busy_backoff returns the sleep before attempt attempt+1 (from 1),
 * in nanoseconds, given 32 random bits. */
uint64_t warden_busy_backoff(int attempt, uint32_t random);

#ifdef __cplusplus
}
#endif

#ifdef WARDEN_IMPLEMENTATION
#ifndef WARDEN_TX_IMPLEMENTED
#define WARDEN_TX_IMPLEMENTED

#ifndef WARDEN_SLEEP_NS
#include <wasi/api.h>
#define WARDEN_SLEEP_NS(ns) warden__sleep_ns(ns)
/* warden__sleep_ns waits ns, polling again until they have passed. */
static void warden__sleep_ns(uint64_t ns) {
    int64_t end = warden_time_now() + (int64_t)ns;
    for (int64_t left = end - warden_time_now(); left > 0; left = end - warden_time_now()) {
        __wasi_subscription_t sub = {0};
        __wasi_event_t ev;
        __wasi_size_t n;
        sub.u.tag = __WASI_EVENTTYPE_CLOCK;
        sub.u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
        sub.u.u.clock.timeout = (uint64_t)left;
        if (__wasi_poll_oneoff(&sub, &ev, 1, &n) != 0) return; /* no clock: retry at once rather than spin */
    }
}
#endif

uint64_t warden_busy_backoff(int attempt, uint32_t random) {
    uint64_t d = WARDEN_BUSY_BACKOFF_NS << (attempt - 1);
    return d / 2 + (uint64_t)random % (d / 2 + 1);
}

/* warden__tx_once is one attempt; *busy tells whether it failed with DB_BUSY. */
static int32_t warden__tx_once(int32_t mode, warden_tx_fn fn, void *arg, int *busy) {
    int32_t st = warden_db_begin(mode);
    if (st == WARDEN_OK) {
        st = fn(arg);
        if (st >= 0) st = warden_db_commit();
        if (st < 0) (void)warden_db_rollback(); /* after TX_FAILED the host has rolled back already */
    }
    *busy = st == WARDEN_DB_BUSY;
    return st < 0 ? st : WARDEN_OK;
}

int32_t warden_transaction(int32_t mode, warden_tx_fn fn, void *arg) {
    for (int attempt = 1;; attempt++) {
        int busy = 0;
        int32_t st = warden__tx_once(mode, fn, arg, &busy);
        if (!busy || attempt == WARDEN_MAX_TX_ATTEMPTS) return st;
        uint32_t r = 0;
        (void)warden_random_fill((uint8_t *)&r, sizeof r);
        WARDEN_SLEEP_NS(warden_busy_backoff(attempt, r));
    }
}

#endif /* WARDEN_TX_IMPLEMENTED */
#endif /* WARDEN_IMPLEMENTATION */
#endif /* WARDEN_TX_H */
