/*
 * tx_test.c: warden_transaction (warden_tx.h) against a fake host, built
 * natively by run.sh: the warden_v1 imports are plain functions here, and
 * WARDEN_SLEEP_NS records sleeps instead of sleeping.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long slept[64];
static int nslept;
#define WARDEN_SLEEP_NS(ns) (slept[nslept++] = (ns))

#define WARDEN_IMPLEMENTATION
#include "warden.h"
#include "warden_tx.h"

/* The fake host: commit fails with DB_BUSY commit_busy times; db_exec
 * returns exec_status when it is not 0. */
static int commit_busy, begins, commits, rollbacks;
static int64_t exec_status;

int32_t warden_db_begin(int32_t mode) { (void)mode; begins++; return WARDEN_OK; }
int32_t warden_db_commit(void) {
    commits++;
    if (commit_busy > 0) { commit_busy--; return WARDEN_DB_BUSY; }
    return WARDEN_OK;
}
int32_t warden_db_rollback(void) { rollbacks++; return WARDEN_OK; }
int64_t warden_db_exec(const char *s, uint32_t n, const uint8_t *a, uint32_t an) {
    (void)s, (void)n, (void)a, (void)an;
    return exec_status ? exec_status : 1;
}
int32_t warden_random_fill(uint8_t *p, uint32_t n) { memset(p, 0xa5, n); return WARDEN_OK; }
int64_t warden_time_now(void) { return 0; }
int64_t warden_last_error(uint8_t *p, uint32_t cap) { (void)p, (void)cap; return WARDEN_NOT_FOUND; }
/* The other imports, which these tests do not reach. */
int32_t warden_rpc_register(const char *a, uint32_t b, int32_t c, int32_t d) { (void)a, (void)b, (void)c, (void)d; abort(); }
int32_t warden_input_read(int32_t a, uint8_t *b, uint32_t c) { (void)a, (void)b, (void)c; abort(); }
int32_t warden_output_write(const uint8_t *a, uint32_t b) { (void)a, (void)b; abort(); }
int32_t warden_error_set(int32_t a, const char *b, uint32_t c) { (void)a, (void)b, (void)c; abort(); }
int64_t warden_ctx_get(const char *a, uint32_t b, uint8_t *c, uint32_t d) { (void)a, (void)b, (void)c, (void)d; abort(); }
int32_t warden_log(int32_t a, const char *b, uint32_t c) { (void)a, (void)b, (void)c; abort(); }
int32_t warden_log_level(void) { abort(); }
int32_t warden_db_engine(void) { abort(); }
int64_t warden_db_query(const char *a, uint32_t b, const uint8_t *c, uint32_t d) { (void)a, (void)b, (void)c, (void)d; abort(); }
int64_t warden_result_read(uint8_t *a, uint32_t b) { (void)a, (void)b; abort(); }
void warden_panic(const char *a, uint32_t b) { (void)a, (void)b; abort(); }
int32_t warden_http_register(const char *a, uint32_t b, const char *c, uint32_t d, int32_t e, int32_t f) { (void)a, (void)b, (void)c, (void)d, (void)e, (void)f; abort(); }
int32_t warden_output_set_status(int32_t a) { (void)a; abort(); }
int32_t warden_output_add_header(const char *a, uint32_t b, const char *c, uint32_t d) { (void)a, (void)b, (void)c, (void)d; abort(); }
int64_t warden_http_request(const uint8_t *a, uint32_t b) { (void)a, (void)b; abort(); }

static int runs, failures;

static int32_t bump(void *arg) {
    (void)arg;
    runs++;
    int64_t n = warden_exec("UPDATE t SET v = v + 1", NULL);
    return n < 0 ? (int32_t)n : WARDEN_OK;
}

#define CHECK(cond, ...) \
    do { if (!(cond)) { failures++; printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); } } while (0)

/* run runs bump in a transaction on a fresh fake host and returns its status. */
static int32_t run(int busy, int64_t status) {
    commit_busy = busy, exec_status = status;
    begins = commits = rollbacks = runs = nslept = 0;
    return warden_transaction(WARDEN_TX_READ_WRITE, bump, NULL);
}

int main(void) {
    int cases[][2] = {{0, 1}, {2, 3}, {WARDEN_MAX_TX_ATTEMPTS - 1, WARDEN_MAX_TX_ATTEMPTS}, {100, WARDEN_MAX_TX_ATTEMPTS}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int busy = cases[i][0], want = cases[i][1];
        int32_t st = run(busy, 0);
        CHECK(runs == want, "busy %d: %d attempts, want %d", busy, runs, want);
        CHECK(st == (busy >= WARDEN_MAX_TX_ATTEMPTS ? WARDEN_DB_BUSY : WARDEN_OK), "busy %d: status %d", busy, st);
        CHECK(nslept == want - 1, "busy %d: %d sleeps, want %d", busy, nslept, want - 1);
        for (int k = 0; k < nslept; k++) {
            unsigned long long max = WARDEN_BUSY_BACKOFF_NS << k;
            CHECK(slept[k] >= max / 2 && slept[k] <= max, "sleep %d = %llu ns, want %llu..%llu", k + 1, slept[k], max / 2, max);
        }
        CHECK(begins == want && rollbacks >= want - 1, "busy %d: %d begins, %d rollbacks", busy, begins, rollbacks);
    }
    int32_t others[] = {WARDEN_DB_ERROR, WARDEN_DB_READ_ONLY, WARDEN_TX_FAILED};
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        int32_t st = run(0, others[i]);
        CHECK(runs == 1 && nslept == 0 && st == others[i] && commits == 0 && rollbacks == 1,
              "status %d: %d attempts, %d sleeps, status %d, %d commits, %d rollbacks", others[i], runs, nslept, st, commits, rollbacks);
    }
    int32_t st = run(0, WARDEN_DB_BUSY);
    CHECK(runs == WARDEN_MAX_TX_ATTEMPTS && st == WARDEN_DB_BUSY, "busy statement: %d attempts, status %d", runs, st);
    if (failures) return 1;
    printf("ok: warden_transaction\n");
    return 0;
}
