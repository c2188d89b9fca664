/*
 * warden.h: the Warden plugin SDK for C, header-only.
 *
 * A plugin is a WebAssembly reactor built with clang and wasi-libc:
 *
 *     clang --target=wasm32-wasi -O2 -mexec-model=reactor -I sdk/c -o hello.wasm hello.c
 *
 * Two layers, as in abi/ABI.md:
 *
 *   - the raw warden_v1 imports, one declaration per host function, named
 *     warden_<name> with the parameter names of ABI.md; and the ABI's numbers
 *     as WARDEN_* constants;
 *   - helpers: handler registration and dispatch (WARDEN_PLUGIN), input and
 *     output, errors, context reads, logging, the database with an encoder
 *     for parameters and a decoder for rows, a growable text buffer, and
 *     assert routed to the ABI's panic.
 *
 * Use it stb-style: in exactly one .c file of the plugin,
 *
 *     #define WARDEN_IMPLEMENTATION
 *     #include "warden.h"
 *
 * and name the plugin's init function there with WARDEN_PLUGIN(init). Other
 * files include warden.h without the define.
 *
 *     static int32_t echo(const uint8_t *payload, size_t len) {
 *         return warden_output(payload, len);
 *     }
 *
 *     static int32_t init(void) {
 *         return warden_register("echo", echo);
 *     }
 *
 *     WARDEN_PLUGIN(init)
 *
 * Conventions. Helpers return 0 (WARDEN_OK) on success and a negative
 * WARDEN_* status on failure, like the raw imports. The helpers whose
 * failure should fail the call (warden_register*, warden_output*) also set
 * the call's error before they return, so a handler or init can simply
 * return their result. Handlers return 0 for success, or warden_fail(...).
 * Nothing here uses printf except warden_logf, warden_failf and
 * warden_outputf, which pull in libc's stdio and with it three WASI imports
 * (fd_write, fd_seek, fd_close) that the host provides; without them a
 * plugin imports nothing but warden_v1.
 *
 * Memory (ABI.md 1.1): the host only borrows a (ptr, len) for the duration
 * of a call and never keeps it; everything a helper allocates with malloc is
 * freed by the caller as documented per function. An instance runs one call
 * at a time, on one thread.
 */
#ifndef WARDEN_H
#define WARDEN_H

#include <assert.h> /* first, so that the assert below replaces it */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Raw imports (ABI.md section 3) -------------------------------------
 * One declaration per line: abi/contract_test.go parses this block. Types:
 * const char *, const uint8_t *, uint8_t *, int32_t and uint32_t are wasm
 * i32; int64_t is wasm i64; a void result is none; (void) is no parameters.
 */
#define WARDEN_IMPORT(name) __attribute__((import_module("warden_v1"), import_name(#name)))

WARDEN_IMPORT(rpc_register) int32_t warden_rpc_register(const char *id_ptr, uint32_t id_len, int32_t handler_id, int32_t flags);
WARDEN_IMPORT(input_read) int32_t warden_input_read(int32_t offset, uint8_t *dst_ptr, uint32_t dst_len);
WARDEN_IMPORT(output_write) int32_t warden_output_write(const uint8_t *src_ptr, uint32_t src_len);
WARDEN_IMPORT(error_set) int32_t warden_error_set(int32_t code, const char *msg_ptr, uint32_t msg_len);
WARDEN_IMPORT(ctx_get) int64_t warden_ctx_get(const char *key_ptr, uint32_t key_len, uint8_t *dst_ptr, uint32_t dst_cap);
WARDEN_IMPORT(log) int32_t warden_log(int32_t level, const char *msg_ptr, uint32_t msg_len);
WARDEN_IMPORT(log_level) int32_t warden_log_level(void);
WARDEN_IMPORT(db_engine) int32_t warden_db_engine(void);
WARDEN_IMPORT(db_exec) int64_t warden_db_exec(const char *sql_ptr, uint32_t sql_len, const uint8_t *args_ptr, uint32_t args_len);
WARDEN_IMPORT(db_query) int64_t warden_db_query(const char *sql_ptr, uint32_t sql_len, const uint8_t *args_ptr, uint32_t args_len);
WARDEN_IMPORT(db_begin) int32_t warden_db_begin(int32_t mode);
WARDEN_IMPORT(db_commit) int32_t warden_db_commit(void);
WARDEN_IMPORT(db_rollback) int32_t warden_db_rollback(void);
WARDEN_IMPORT(result_read) int64_t warden_result_read(uint8_t *dst_ptr, uint32_t dst_cap);
WARDEN_IMPORT(last_error) int64_t warden_last_error(uint8_t *dst_ptr, uint32_t dst_cap);
WARDEN_IMPORT(panic) void warden_panic(const char *msg_ptr, uint32_t msg_len);
WARDEN_IMPORT(time_now) int64_t warden_time_now(void);
WARDEN_IMPORT(random_fill) int32_t warden_random_fill(uint8_t *dst_ptr, uint32_t dst_len);
WARDEN_IMPORT(http_register) int32_t warden_http_register(const char *pattern_ptr, uint32_t pattern_len, const char *methods_ptr, uint32_t methods_len, int32_t handler_id, int32_t flags);
WARDEN_IMPORT(output_set_status) int32_t warden_output_set_status(int32_t status);
WARDEN_IMPORT(output_add_header) int32_t warden_output_add_header(const char *name_ptr, uint32_t name_len, const char *value_ptr, uint32_t value_len);
WARDEN_IMPORT(http_request) int64_t warden_http_request(const uint8_t *req_ptr, uint32_t req_len);

/* ---- Constants ---------------------------------------------------------- */

/* Statuses (ABI.md 1.2). */
enum {
    WARDEN_OK = 0,
    WARDEN_NOT_FOUND = -1,
    WARDEN_BAD_ARGUMENT = -2,
    WARDEN_INVALID_MEMORY = -3,
    WARDEN_NOT_ALLOWED = -4,
    WARDEN_ALREADY_EXISTS = -5,
    WARDEN_LIMIT_EXCEEDED = -6,
    WARDEN_DB_ERROR = -7,
    WARDEN_UNIMPLEMENTED = -8,
    WARDEN_INTERNAL = -9,
    WARDEN_CANCELLED = -10,
    WARDEN_DB_BUSY = -11,
    WARDEN_TX_FAILED = -12,
    WARDEN_TX_STATE = -13,
    WARDEN_DB_READ_ONLY = -14,
    WARDEN_BUFFER_TOO_SMALL = -15,
    WARDEN_NOT_GRANTED = -16, /* 1.2: an http_request the plugin's grants do not allow */
    WARDEN_HTTP_FAILED = -17  /* 1.2: an http_request that got no response */
};

/* gRPC codes for warden_fail (ABI.md section 5). */
enum {
    WARDEN_CODE_CANCELED = 1,
    WARDEN_CODE_UNKNOWN = 2,
    WARDEN_CODE_INVALID_ARGUMENT = 3,
    WARDEN_CODE_DEADLINE_EXCEEDED = 4,
    WARDEN_CODE_NOT_FOUND = 5,
    WARDEN_CODE_ALREADY_EXISTS = 6,
    WARDEN_CODE_PERMISSION_DENIED = 7,
    WARDEN_CODE_RESOURCE_EXHAUSTED = 8,
    WARDEN_CODE_FAILED_PRECONDITION = 9,
    WARDEN_CODE_ABORTED = 10,
    WARDEN_CODE_OUT_OF_RANGE = 11,
    WARDEN_CODE_UNIMPLEMENTED = 12,
    WARDEN_CODE_INTERNAL = 13,
    WARDEN_CODE_UNAVAILABLE = 14,
    WARDEN_CODE_DATA_LOSS = 15,
    WARDEN_CODE_UNAUTHENTICATED = 16
};

/* Flags of rpc_register and http_register (ABI.md 3.1). */
#define WARDEN_SERVER_ONLY 1
#define WARDEN_SESSION_REQUIRED 2

/* Log levels (ABI.md 3.4); warden_log_level returns WARDEN_LOG_OFF when off. */
#define WARDEN_LOG_DEBUG 0
#define WARDEN_LOG_INFO 1
#define WARDEN_LOG_WARN 2
#define WARDEN_LOG_ERROR 3
#define WARDEN_LOG_OFF 7

/* db_engine results and db_begin modes (ABI.md 3.5). */
#define WARDEN_ENGINE_NONE 0
#define WARDEN_ENGINE_SQLITE 1
#define WARDEN_ENGINE_POSTGRES 2
#define WARDEN_TX_READ_ONLY 0
#define WARDEN_TX_READ_WRITE 1

/* Value tags (ABI.md 4.1). */
#define WARDEN_NULL 0
#define WARDEN_INT64 1
#define WARDEN_FLOAT64 2
#define WARDEN_TEXT 3
#define WARDEN_BLOB 4

/* Context keys (ABI.md 3.3); the *_PREFIX keys take a name after them. */
#define WARDEN_CTX_USER_ID "user_id"
#define WARDEN_CTX_USERNAME "username"
#define WARDEN_CTX_USER_SESSION_EXP "user_session_exp"
#define WARDEN_CTX_VARS "vars"
#define WARDEN_CTX_VAR_PREFIX "var."
#define WARDEN_CTX_HEADERS "headers"
#define WARDEN_CTX_HEADER_PREFIX "header."
#define WARDEN_CTX_QUERY_PARAMS "query_params"
#define WARDEN_CTX_QUERY_PREFIX "query."
#define WARDEN_CTX_ENV "env"
#define WARDEN_CTX_ENV_PREFIX "env."
#define WARDEN_CTX_EXECUTION_MODE "execution_mode"
#define WARDEN_CTX_NODE "node"
#define WARDEN_CTX_VERSION "version"
#define WARDEN_CTX_CLIENT_IP "client_ip"
#define WARDEN_CTX_CLIENT_PORT "client_port"
#define WARDEN_CTX_TRACE_ID "trace_id"
#define WARDEN_CTX_RPC_ID "rpc_id"
#define WARDEN_CTX_PLUGIN_NAME "plugin_name"
#define WARDEN_CTX_PLUGIN_VERSION "plugin_version"
#define WARDEN_CTX_HTTP_METHOD "http_method"
#define WARDEN_CTX_HTTP_PATH "http_path"
#define WARDEN_CTX_HTTP_ROUTE "http_route"
#define WARDEN_CTX_ROUTE_PREFIX "route."

/* Most handlers one plugin can register (the host allows 1024 RPCs). */
#ifndef WARDEN_MAX_HANDLERS
#define WARDEN_MAX_HANDLERS 1024
#endif

/* ---- Plugin entry points ------------------------------------------------ */

/* A handler gets the payload (NUL-terminated at payload[len], for
 * convenience; it may hold NULs), writes its output with warden_output*,
 * and returns 0, or non-zero after setting the error (warden_fail). The
 * payload is freed when the handler returns. */
typedef int32_t (*warden_handler)(const uint8_t *payload, size_t len);

/* The plugin's init: it registers handlers and returns 0, or non-zero to
 * refuse the plugin (with warden_fail's message). */
typedef int32_t (*warden_init_fn)(void);

/* Registers h as RPC id (1..128 bytes of UTF-8, case-insensitive). Returns
 * 0, or a negative status after setting the error (ALREADY_EXISTS,
 * BAD_ARGUMENT, LIMIT_EXCEEDED, NOT_ALLOWED outside init). */
int32_t warden_register(const char *id, warden_handler h);
/* warden_register with SERVER_ONLY: the host refuses calls that carry a
 * user ID with code 7 before h runs. */
int32_t warden_register_server_only(const char *id, warden_handler h);
/* Registers h for HTTP requests to pattern ("/hooks/:name") and methods
 * ("GET,POST"; "" for the default set); flags may be WARDEN_SESSION_REQUIRED
 * (ABI 1.1). */
int32_t warden_register_http(const char *pattern, const char *methods, warden_handler h, int32_t flags);

/* What the exports call; WARDEN_PLUGIN wires them up. */
int32_t warden_run_init(warden_init_fn init);
int32_t warden_run_handle(int32_t handler_id, int32_t input_len);

/* WARDEN_PLUGIN(init) exports warden_abi_v1, warden_init (which runs init)
 * and warden_handle. Use it once, at file scope. */
#define WARDEN_PLUGIN(init)                                                     \
    __attribute__((export_name("warden_abi_v1"))) void warden_abi_v1(void) {}   \
    __attribute__((export_name("warden_init"))) int32_t warden_init(void) {     \
        return warden_run_init(init);                                           \
    }                                                                           \
    __attribute__((export_name("warden_handle"))) int32_t warden_handle(        \
        int32_t handler_id, int32_t input_len) {                                \
        return warden_run_handle(handler_id, input_len);                        \
    }

/* ---- Output and errors -------------------------------------------------- */

/* Appends to the call's output. Returns 0, or a negative status after
 * setting the error (code 8 past the output limit). */
int32_t warden_output(const void *p, size_t len);
int32_t warden_output_str(const char *s);
/* printf-style warden_output (uses libc stdio). */
int32_t warden_outputf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Sets the call's error and returns 1, for "return warden_fail(...)". */
int32_t warden_fail(int32_t code, const char *msg);
/* printf-style warden_fail (uses libc stdio). */
int32_t warden_failf(int32_t code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Response status and header of an HTTP handler (ABI 1.1); statuses as
 * output_set_status and output_add_header. */
int32_t warden_set_status(int32_t status);
int32_t warden_add_header(const char *name, const char *value);

/* ---- Context ------------------------------------------------------------ */

/* Reads context value key into buf with the buffer convention: returns
 * its full length L (written, and NUL-terminated, when L < cap), or a
 * negative status: WARDEN_NOT_FOUND when absent. */
int64_t warden_ctx(const char *key, char *buf, size_t cap);
/* Returns context value key in a malloc'd, NUL-terminated buffer that the
 * caller frees, with its length in *len when len is not NULL; NULL when
 * absent (or out of memory). */
char *warden_ctx_dup(const char *key, size_t *len);
/* As warden_ctx_dup, with key = prefix followed by name ("header.", "Accept"). */
char *warden_ctx_dup2(const char *prefix, const char *name, size_t *len);

/* Borrowed bytes. */
typedef struct {
    const uint8_t *ptr;
    size_t len;
} warden_bytes;

/* An iterator over an encoded map (ABI.md 4.3): the "headers", "vars",
 * "query_params" and "env" context values. */
typedef struct {
    const uint8_t *p, *end;
    uint32_t left;
} warden_map_iter;

/* Starts iterating over the map in buf; returns 0, or -1 when malformed. */
int warden_map_init(warden_map_iter *it, const void *buf, size_t len);
/* Gets the next pair: returns 1, 0 at the end, or -1 when malformed. Key
 * and value point into the map's buffer. */
int warden_map_next(warden_map_iter *it, warden_bytes *key, warden_bytes *value);

/* ---- Logging ------------------------------------------------------------ */

/* Logs msg at level (WARDEN_LOG_*) unless the server drops that level. */
void warden_log_str(int32_t level, const char *msg);
void warden_log_bytes(int32_t level, const void *msg, size_t len);
/* printf-style, formatting only when the level is written (uses libc stdio). */
void warden_logf(int32_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- Growable buffer ---------------------------------------------------- */

/* A growable byte buffer for building text and output without printf. The
 * zero value (WARDEN_BUF_INIT) is empty; data is NUL-terminated when not
 * NULL. On out-of-memory the buffer stops growing and oom is set. */
typedef struct {
    char *data;
    size_t len, cap;
    int oom;
} warden_buf;
#define WARDEN_BUF_INIT {0, 0, 0, 0}

void warden_buf_bytes(warden_buf *b, const void *p, size_t n);
void warden_buf_str(warden_buf *b, const char *s);
void warden_buf_char(warden_buf *b, char c);
void warden_buf_i64(warden_buf *b, int64_t v);
void warden_buf_u64(warden_buf *b, uint64_t v);
/* Appends the lowercase hex of n bytes. */
void warden_buf_hex(warden_buf *b, const void *p, size_t n);
void warden_buf_free(warden_buf *b);

/* ---- Database ----------------------------------------------------------- */

/* Parameters of a statement, encoded as ABI.md 4.1 value list. Start from
 * WARDEN_ARGS_INIT, add values in the order of $1, $2, ..., and free with
 * warden_args_free. An out-of-memory add makes the statement fail with
 * WARDEN_LIMIT_EXCEEDED. */
typedef struct {
    warden_buf buf;
    uint32_t count;
} warden_args;
#define WARDEN_ARGS_INIT {WARDEN_BUF_INIT, 0}

void warden_args_null(warden_args *a);
void warden_args_int(warden_args *a, int64_t v);
void warden_args_float(warden_args *a, double v);
void warden_args_text(warden_args *a, const char *s, size_t len);
void warden_args_str(warden_args *a, const char *s);
void warden_args_blob(warden_args *a, const void *p, size_t len);
void warden_args_free(warden_args *a);

/* One decoded value. ptr and len are set for TEXT and BLOB and point into
 * the result's buffer (TEXT is not NUL-terminated). */
typedef struct {
    int32_t tag; /* WARDEN_NULL, WARDEN_INT64, ... */
    int64_t i;
    double f;
    const uint8_t *ptr;
    uint32_t len;
} warden_value;

/* A decoded query result (ABI.md 4.2). */
typedef struct {
    uint32_t ncols, nrows;
    warden_bytes *columns;
    warden_value *values; /* nrows * ncols, row by row */
    uint8_t *buf;
} warden_rows;

/* Runs a statement that returns no rows; args may be NULL. Returns the
 * number of rows affected, or a negative status (warden_errmsg has the
 * host's message). */
int64_t warden_exec(const char *sql, const warden_args *args);
/* Runs a statement that returns rows into *rows, which the caller frees
 * with warden_rows_free. Returns 0 or a negative status. */
int32_t warden_query(const char *sql, const warden_args *args, warden_rows *rows);
/* The value at row r, column c; NULL out of range. */
const warden_value *warden_rows_get(const warden_rows *rows, uint32_t r, uint32_t c);
void warden_rows_free(warden_rows *rows);

/* ---- Outbound HTTP (ABI 1.2) -------------------------------------------
 * Requests to the URLs the plugin's manifest NAME.toml grants:
 *
 *     [http]
 *     allow = ["https://api.example.com", "http://127.0.0.1:*"]
 *
 *     warden_http_res res;
 *     int32_t st = warden_http_get("https://api.example.com/items/7", &res);
 *     if (st != WARDEN_OK) return warden_http_fail(st); // NOT_GRANTED, ...
 *     warden_bytes type;
 *     if (res.status == 200 && warden_http_header(&res, "Content-Type", &type)) ...
 *     warden_http_res_free(&res);
 *
 * A 4xx or 5xx answer is a response (its status tells); a failure is a
 * negative status, with the host's message in warden_errmsg(). */

/* One request header; a repeated name has one entry per value. */
typedef struct {
    const char *name, *value;
} warden_header;

/* An outbound request. */
typedef struct {
    const char *method; /* an HTTP token; NULL or "" means GET */
    const char *url;    /* absolute: http:// or https:// */
    const warden_header *headers;
    size_t nheaders;
    const void *body;
    size_t body_len;
    uint32_t timeout_ms; /* 0: the plugin's configured timeout; else at most that */
} warden_http_req;

/* One response header; name (lower-cased by the host) and value point into
 * the response's buffer and are not NUL-terminated. */
typedef struct {
    warden_bytes name, value;
} warden_http_header_view;

/* A response: the caller frees it with warden_http_res_free. */
typedef struct {
    int32_t status; /* the HTTP status, such as 200 or 404 */
    uint32_t nheaders;
    warden_http_header_view *headers; /* in the order received */
    warden_bytes body;
    uint8_t *buf;
} warden_http_res;

/* Sends req and decodes the answer into *res. Returns 0, or a negative
 * status: WARDEN_NOT_GRANTED (the grants do not allow the URL),
 * WARDEN_HTTP_FAILED (no response), WARDEN_CANCELLED,
 * WARDEN_LIMIT_EXCEEDED, WARDEN_BAD_ARGUMENT (a bad method, URL or header,
 * or one the host manages such as Host), WARDEN_NOT_ALLOWED (in init),
 * WARDEN_INTERNAL (an undecodable answer); *res is then empty. */
int32_t warden_http_send(const warden_http_req *req, warden_http_res *res);
/* A GET of url with no headers; as warden_http_send. */
int32_t warden_http_get(const char *url, warden_http_res *res);
/* A POST of body with its Content-Type; as warden_http_send. */
int32_t warden_http_post(const char *url, const char *content_type, const void *body, size_t len, warden_http_res *res);
/* Finds the first value of header name (case-insensitive): returns 1 and
 * sets *value, or 0 when absent. */
int warden_http_header(const warden_http_res *res, const char *name, warden_bytes *value);
void warden_http_res_free(warden_http_res *res);
/* The code a failed request fails the call with: PERMISSION_DENIED for
 * NOT_GRANTED, UNAVAILABLE for HTTP_FAILED, DEADLINE_EXCEEDED for
 * CANCELLED, RESOURCE_EXHAUSTED for LIMIT_EXCEEDED, INTERNAL otherwise. */
int32_t warden_http_code(int32_t status);
/* Fails the call for request status st with warden_http_code(st) and
 * "STATUS: host message"; returns 1, for "return warden_http_fail(st)". */
int32_t warden_http_fail(int32_t status);

/* ---- Diagnostics -------------------------------------------------------- */

/* The ABI name of a status ("TX_STATE"), or "UNKNOWN". */
const char *warden_status_name(int32_t status);
/* The host's message for the last failed host call of this call, in a
 * static buffer (cut to 1 KiB), or "" when none failed. */
const char *warden_errmsg(void);
/* Reports msg to the host's panic and traps: the call fails with code 13
 * and "panic: <msg>", and the instance is discarded. */
__attribute__((noreturn)) void warden_abort(const char *msg);
/* warden_abort with " at file:line" appended. */
__attribute__((noreturn)) void warden_abort_at(const char *msg, const char *file, int line);
#define WARDEN_PANIC(msg) warden_abort_at((msg), __FILE__, __LINE__)
/* Fills p with n cryptographically secure random bytes. Returns 0 or a
 * negative status. */
int32_t warden_random(void *p, size_t n);

/* assert reports to the host's panic instead of printing to stderr. Include
 * warden.h after <assert.h>, which would redefine it. */
__attribute__((noreturn)) void warden_assert_fail(const char *expr, const char *file, int line, const char *func);
#undef assert
#ifdef NDEBUG
#define assert(e) ((void)0)
#else
#define assert(e) ((e) ? (void)0 : warden_assert_fail(#e, __FILE__, __LINE__, __func__))
#endif

#ifdef __cplusplus
}
#endif

/* ======================================================================== */
#ifdef WARDEN_IMPLEMENTATION

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static warden_handler warden__handlers[WARDEN_MAX_HANDLERS];
static int32_t warden__nhandlers;

static const char *const warden__status_names[] = {
    "OK", "NOT_FOUND", "BAD_ARGUMENT", "INVALID_MEMORY", "NOT_ALLOWED",
    "ALREADY_EXISTS", "LIMIT_EXCEEDED", "DB_ERROR", "UNIMPLEMENTED", "INTERNAL",
    "CANCELLED", "DB_BUSY", "TX_FAILED", "TX_STATE", "DB_READ_ONLY", "BUFFER_TOO_SMALL",
    "NOT_GRANTED", "HTTP_FAILED",
};

const char *warden_status_name(int32_t st) {
    if (st <= 0 && st > -(int32_t)(sizeof warden__status_names / sizeof *warden__status_names))
        return warden__status_names[-st];
    return "UNKNOWN";
}

const char *warden_errmsg(void) {
    static char msg[1024];
    int64_t n = warden_last_error((uint8_t *)msg, sizeof msg - 1);
    if (n < 0) n = 0;
    if (n > (int64_t)sizeof msg - 1) { /* too long: read it whole, keep the start */
        uint8_t *p = malloc((size_t)n);
        if (p && warden_last_error(p, (uint32_t)n) == n) memcpy(msg, p, sizeof msg - 1);
        free(p);
        n = sizeof msg - 1;
    }
    msg[n] = 0;
    return msg;
}

int32_t warden_fail(int32_t code, const char *msg) {
    warden_error_set(code, msg, (uint32_t)strlen(msg));
    return 1;
}

int32_t warden_failf(int32_t code, const char *fmt, ...) {
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return warden_fail(code, fmt);
    if ((size_t)n < sizeof small) {
        warden_error_set(code, small, (uint32_t)n);
        return 1;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) return warden_fail(code, fmt);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    warden_error_set(code, big, (uint32_t)n);
    free(big);
    return 1;
}

/* Sets the error "<what> <name>: <host message>" with a code for status st. */
static int32_t warden__fail_status(int32_t st, const char *what, const char *name) {
    int32_t code = WARDEN_CODE_INTERNAL;
    if (st == WARDEN_ALREADY_EXISTS) code = WARDEN_CODE_ALREADY_EXISTS;
    if (st == WARDEN_BAD_ARGUMENT) code = WARDEN_CODE_INVALID_ARGUMENT;
    if (st == WARDEN_LIMIT_EXCEEDED) code = WARDEN_CODE_RESOURCE_EXHAUSTED;
    const char *msg = warden_errmsg();
    warden_buf b = WARDEN_BUF_INIT;
    warden_buf_str(&b, what);
    if (name) {
        warden_buf_char(&b, ' ');
        warden_buf_str(&b, name);
    }
    warden_buf_str(&b, ": ");
    warden_buf_str(&b, *msg ? msg : warden_status_name(st));
    if (b.oom) warden_fail(code, what);
    else warden_error_set(code, b.data, (uint32_t)b.len);
    warden_buf_free(&b);
    return st;
}

static int32_t warden__add(warden_handler h, int32_t *id) {
    if (!h || warden__nhandlers >= WARDEN_MAX_HANDLERS) return WARDEN_LIMIT_EXCEEDED;
    *id = warden__nhandlers;
    warden__handlers[warden__nhandlers++] = h;
    return WARDEN_OK;
}

static int32_t warden__register(const char *id, warden_handler h, int32_t flags) {
    int32_t hid, st = warden__add(h, &hid);
    if (st == WARDEN_OK) {
        st = warden_rpc_register(id, (uint32_t)strlen(id), hid, flags);
        if (st != WARDEN_OK) warden__nhandlers--;
    }
    return st == WARDEN_OK ? st : warden__fail_status(st, "register rpc", id);
}

int32_t warden_register(const char *id, warden_handler h) { return warden__register(id, h, 0); }

int32_t warden_register_server_only(const char *id, warden_handler h) {
    return warden__register(id, h, WARDEN_SERVER_ONLY);
}

int32_t warden_register_http(const char *pattern, const char *methods, warden_handler h, int32_t flags) {
    int32_t hid, st = warden__add(h, &hid);
    if (st == WARDEN_OK) {
        st = warden_http_register(pattern, (uint32_t)strlen(pattern), methods, (uint32_t)strlen(methods), hid, flags);
        if (st != WARDEN_OK) warden__nhandlers--;
    }
    return st == WARDEN_OK ? st : warden__fail_status(st, "register http", pattern);
}

int32_t warden_run_init(warden_init_fn init) {
    warden__nhandlers = 0; /* a second init starts over, so ids stay dense */
    return init();
}

int32_t warden_run_handle(int32_t handler_id, int32_t input_len) {
    if (handler_id < 0 || handler_id >= warden__nhandlers) return warden_fail(WARDEN_CODE_INTERNAL, "unknown handler id");
    if (input_len < 0) return warden_fail(WARDEN_CODE_INTERNAL, "negative input length");
    uint8_t *in = malloc((size_t)input_len + 1);
    if (!in) return warden_fail(WARDEN_CODE_RESOURCE_EXHAUSTED, "out of memory for the payload");
    int32_t off = 0;
    while (off < input_len) {
        int32_t n = warden_input_read(off, in + off, (uint32_t)(input_len - off));
        if (n < 0) {
            free(in);
            return warden__fail_status(n, "read input", NULL);
        }
        if (n == 0) break;
        off += n;
    }
    in[off] = 0;
    int32_t rc = warden__handlers[handler_id](in, (size_t)off);
    free(in);
    return rc;
}

int32_t warden_output(const void *p, size_t len) {
    if (len == 0) return WARDEN_OK;
    int32_t st = warden_output_write((const uint8_t *)p, (uint32_t)len);
    return st == WARDEN_OK ? st : warden__fail_status(st, "write output", NULL);
}

int32_t warden_output_str(const char *s) { return warden_output(s, strlen(s)); }

int32_t warden_outputf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return warden_fail(WARDEN_CODE_INTERNAL, "outputf: bad format");
    char *s = malloc((size_t)n + 1);
    if (!s) return warden_fail(WARDEN_CODE_RESOURCE_EXHAUSTED, "outputf: out of memory");
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int32_t st = warden_output(s, (size_t)n);
    free(s);
    return st;
}

int32_t warden_set_status(int32_t status) { return warden_output_set_status(status); }

int32_t warden_add_header(const char *name, const char *value) {
    return warden_output_add_header(name, (uint32_t)strlen(name), value, (uint32_t)strlen(value));
}

/* Reads a variable-size value with the buffer convention into a malloc'd
 * buffer with a NUL after it; returns its length or a negative status. */
static int64_t warden__read(int64_t (*call)(const void *ctx, uint8_t *dst, uint32_t cap), const void *ctx, uint8_t **out) {
    uint32_t cap = 128;
    uint8_t *buf = malloc(cap + 1);
    for (int tries = 0; buf && tries < 3; tries++) {
        int64_t n = call(ctx, buf, cap);
        if (n < 0) {
            free(buf);
            return n;
        }
        if (n <= cap) {
            buf[n] = 0;
            *out = buf;
            return n;
        }
        free(buf);
        if (n > UINT32_MAX - 1) return WARDEN_LIMIT_EXCEEDED;
        cap = (uint32_t)n;
        buf = malloc(cap + 1);
    }
    if (!buf) return WARDEN_LIMIT_EXCEEDED; /* out of memory */
    free(buf); /* the length kept changing: the host misbehaves */
    return WARDEN_INTERNAL;
}

static int64_t warden__ctx_call(const void *key, uint8_t *dst, uint32_t cap) {
    return warden_ctx_get((const char *)key, (uint32_t)strlen((const char *)key), dst, cap);
}

int64_t warden_ctx(const char *key, char *buf, size_t cap) {
    if (cap == 0) return warden_ctx_get(key, (uint32_t)strlen(key), NULL, 0);
    int64_t n = warden_ctx_get(key, (uint32_t)strlen(key), (uint8_t *)buf, (uint32_t)(cap - 1));
    if (n >= 0 && (size_t)n < cap) buf[n] = 0;
    return n;
}

char *warden_ctx_dup(const char *key, size_t *len) {
    uint8_t *v = NULL;
    int64_t n = warden__read(warden__ctx_call, key, &v);
    if (n < 0) return NULL;
    if (len) *len = (size_t)n;
    return (char *)v;
}

char *warden_ctx_dup2(const char *prefix, const char *name, size_t *len) {
    warden_buf k = WARDEN_BUF_INIT;
    warden_buf_str(&k, prefix);
    warden_buf_str(&k, name);
    char *v = k.oom ? NULL : warden_ctx_dup(k.data, len);
    warden_buf_free(&k);
    return v;
}

static uint32_t warden__u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t warden__u64(const uint8_t *p) {
    return (uint64_t)warden__u32(p) | (uint64_t)warden__u32(p + 4) << 32;
}

/* Reads len:u32 then len bytes from *p, bounded by end. */
static int warden__bytes(const uint8_t **p, const uint8_t *end, warden_bytes *out) {
    if (end - *p < 4) return -1;
    uint32_t n = warden__u32(*p);
    *p += 4;
    if ((size_t)(end - *p) < n) return -1;
    out->ptr = *p;
    out->len = n;
    *p += n;
    return 0;
}

int warden_map_init(warden_map_iter *it, const void *buf, size_t len) {
    it->p = (const uint8_t *)buf;
    it->end = it->p + len;
    it->left = 0;
    if (len < 4) return -1;
    it->left = warden__u32(it->p);
    it->p += 4;
    return (uint64_t)it->left * 8 > (uint64_t)(it->end - it->p) ? (it->left = 0, -1) : 0;
}

int warden_map_next(warden_map_iter *it, warden_bytes *key, warden_bytes *value) {
    if (it->left == 0) return it->p == it->end ? 0 : -1;
    if (warden__bytes(&it->p, it->end, key) || warden__bytes(&it->p, it->end, value)) {
        it->left = 0;
        return -1;
    }
    it->left--;
    return 1;
}

void warden_log_bytes(int32_t level, const void *msg, size_t len) {
    if (level < warden_log_level()) return;
    warden_log(level, (const char *)msg, (uint32_t)len);
}

void warden_log_str(int32_t level, const char *msg) { warden_log_bytes(level, msg, strlen(msg)); }

void warden_logf(int32_t level, const char *fmt, ...) {
    if (level < warden_log_level()) return;
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        warden_log(level, small, (uint32_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        warden_log(level, small, sizeof small - 1);
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    warden_log(level, big, (uint32_t)n);
    free(big);
}

static int warden__grow(warden_buf *b, size_t n) {
    if (b->oom) return -1;
    if (b->len + n + 1 <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n + 1) cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d) {
        b->oom = 1;
        return -1;
    }
    b->data = d;
    b->cap = cap;
    return 0;
}

void warden_buf_bytes(warden_buf *b, const void *p, size_t n) {
    if (warden__grow(b, n)) return;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
}

void warden_buf_str(warden_buf *b, const char *s) { warden_buf_bytes(b, s, strlen(s)); }

void warden_buf_char(warden_buf *b, char c) { warden_buf_bytes(b, &c, 1); }

void warden_buf_u64(warden_buf *b, uint64_t v) {
    char tmp[20];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    warden_buf_bytes(b, tmp + i, sizeof tmp - i);
}

void warden_buf_i64(warden_buf *b, int64_t v) {
    if (v < 0) {
        warden_buf_char(b, '-');
        warden_buf_u64(b, (uint64_t)0 - (uint64_t)v);
        return;
    }
    warden_buf_u64(b, (uint64_t)v);
}

void warden_buf_hex(warden_buf *b, const void *p, size_t n) {
    static const char digits[] = "0123456789abcdef";
    const uint8_t *s = (const uint8_t *)p;
    if (warden__grow(b, 2 * n)) return;
    for (size_t i = 0; i < n; i++) {
        b->data[b->len++] = digits[s[i] >> 4];
        b->data[b->len++] = digits[s[i] & 15];
    }
    b->data[b->len] = 0;
}

void warden_buf_free(warden_buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

static void warden__args_u32(warden_buf *b, uint32_t v) {
    uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    warden_buf_bytes(b, le, 4);
}

static void warden__args_u64(warden_buf *b, uint64_t v) {
    warden__args_u32(b, (uint32_t)v);
    warden__args_u32(b, (uint32_t)(v >> 32));
}

/* Starts a value: reserves the count on the first one, then bumps it. */
static void warden__args_tag(warden_args *a, uint8_t tag) {
    if (a->buf.len == 0) warden__args_u32(&a->buf, 0);
    warden_buf_char(&a->buf, (char)tag);
    a->count++;
    if (!a->buf.oom) {
        uint8_t *p = (uint8_t *)a->buf.data;
        p[0] = (uint8_t)a->count, p[1] = (uint8_t)(a->count >> 8);
        p[2] = (uint8_t)(a->count >> 16), p[3] = (uint8_t)(a->count >> 24);
    }
}

void warden_args_null(warden_args *a) { warden__args_tag(a, WARDEN_NULL); }

void warden_args_int(warden_args *a, int64_t v) {
    warden__args_tag(a, WARDEN_INT64);
    warden__args_u64(&a->buf, (uint64_t)v);
}

void warden_args_float(warden_args *a, double v) {
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    warden__args_tag(a, WARDEN_FLOAT64);
    warden__args_u64(&a->buf, bits);
}

static void warden__args_len(warden_args *a, uint8_t tag, const void *p, size_t n) {
    warden__args_tag(a, tag);
    warden__args_u32(&a->buf, (uint32_t)n);
    warden_buf_bytes(&a->buf, p, n);
}

void warden_args_text(warden_args *a, const char *s, size_t len) { warden__args_len(a, WARDEN_TEXT, s, len); }

void warden_args_str(warden_args *a, const char *s) { warden_args_text(a, s, strlen(s)); }

void warden_args_blob(warden_args *a, const void *p, size_t len) { warden__args_len(a, WARDEN_BLOB, p, len); }

void warden_args_free(warden_args *a) {
    warden_buf_free(&a->buf);
    a->count = 0;
}

/* The encoded arguments, or an error when building them ran out of memory. */
static int32_t warden__args(const warden_args *args, const uint8_t **p, uint32_t *n) {
    *p = NULL;
    *n = 0;
    if (!args) return WARDEN_OK;
    if (args->buf.oom) return WARDEN_LIMIT_EXCEEDED;
    *p = (const uint8_t *)args->buf.data;
    *n = (uint32_t)args->buf.len;
    return WARDEN_OK;
}

int64_t warden_exec(const char *sql, const warden_args *args) {
    const uint8_t *p;
    uint32_t n;
    int32_t st = warden__args(args, &p, &n);
    if (st != WARDEN_OK) return st;
    return warden_db_exec(sql, (uint32_t)strlen(sql), p, n);
}

static int64_t warden__result_call(const void *unused, uint8_t *dst, uint32_t cap) {
    (void)unused;
    return warden_result_read(dst, cap);
}

/* Decodes one value at *p; returns 0 or -1 when malformed. */
static int warden__value(const uint8_t **p, const uint8_t *end, warden_value *v) {
    memset(v, 0, sizeof *v);
    if (*p >= end) return -1;
    v->tag = *(*p)++;
    switch (v->tag) {
    case WARDEN_NULL:
        return 0;
    case WARDEN_INT64:
    case WARDEN_FLOAT64:
        if (end - *p < 8) return -1;
        v->i = (int64_t)warden__u64(*p);
        if (v->tag == WARDEN_FLOAT64) memcpy(&v->f, *p, sizeof v->f);
        *p += 8;
        return 0;
    case WARDEN_TEXT:
    case WARDEN_BLOB: {
        warden_bytes b;
        if (warden__bytes(p, end, &b)) return -1;
        v->ptr = b.ptr;
        v->len = (uint32_t)b.len;
        return 0;
    }
    }
    return -1;
}

static int warden__decode_rows(warden_rows *r, size_t len) {
    const uint8_t *p = r->buf, *end = r->buf + len;
    if (end - p < 4) return -1;
    r->ncols = warden__u32(p);
    p += 4;
    if ((uint64_t)r->ncols * 4 > (uint64_t)(end - p)) return -1;
    r->columns = calloc(r->ncols ? r->ncols : 1, sizeof *r->columns);
    if (!r->columns) return -1;
    for (uint32_t i = 0; i < r->ncols; i++)
        if (warden__bytes(&p, end, &r->columns[i])) return -1;
    if (end - p < 4) return -1;
    r->nrows = warden__u32(p);
    p += 4;
    uint64_t nvals = (uint64_t)r->nrows * r->ncols;
    if ((uint64_t)r->nrows * (r->ncols ? r->ncols : 1) > (uint64_t)(end - p)) return -1;
    r->values = calloc(nvals ? (size_t)nvals : 1, sizeof *r->values);
    if (!r->values) return -1;
    for (uint64_t i = 0; i < nvals; i++)
        if (warden__value(&p, end, &r->values[i])) return -1;
    return p == end ? 0 : -1;
}

int32_t warden_query(const char *sql, const warden_args *args, warden_rows *rows) {
    memset(rows, 0, sizeof *rows);
    const uint8_t *p;
    uint32_t n;
    int32_t st = warden__args(args, &p, &n);
    if (st != WARDEN_OK) return st;
    int64_t len = warden_db_query(sql, (uint32_t)strlen(sql), p, n);
    if (len < 0) return (int32_t)len;
    len = warden__read(warden__result_call, NULL, &rows->buf);
    if (len < 0) return (int32_t)len;
    if (warden__decode_rows(rows, (size_t)len)) {
        warden_rows_free(rows);
        return WARDEN_INTERNAL;
    }
    return WARDEN_OK;
}

const warden_value *warden_rows_get(const warden_rows *rows, uint32_t r, uint32_t c) {
    if (r >= rows->nrows || c >= rows->ncols) return NULL;
    return &rows->values[(size_t)r * rows->ncols + c];
}

void warden_rows_free(warden_rows *rows) {
    free(rows->columns);
    free(rows->values);
    free(rows->buf);
    memset(rows, 0, sizeof *rows);
}

/* ---- Outbound HTTP (ABI 1.2) implementation ---- */

static void warden__put_len(warden_buf *b, const void *p, size_t n) {
    warden__args_u32(b, (uint32_t)n);
    warden_buf_bytes(b, p, n);
}

static void warden__put_str(warden_buf *b, const char *s) { warden__put_len(b, s, s ? strlen(s) : 0); }

static int warden__decode_http(warden_http_res *r, size_t len) {
    const uint8_t *p = r->buf, *end = r->buf + len;
    if (end - p < 8) return -1;
    r->status = (int32_t)warden__u32(p);
    r->nheaders = warden__u32(p + 4);
    p += 8;
    if ((uint64_t)r->nheaders * 8 > (uint64_t)(end - p)) return -1;
    r->headers = calloc(r->nheaders ? r->nheaders : 1, sizeof *r->headers);
    if (!r->headers) return -1;
    for (uint32_t i = 0; i < r->nheaders; i++)
        if (warden__bytes(&p, end, &r->headers[i].name) || warden__bytes(&p, end, &r->headers[i].value)) return -1;
    if (warden__bytes(&p, end, &r->body)) return -1;
    return p == end ? 0 : -1;
}

int32_t warden_http_send(const warden_http_req *req, warden_http_res *res) {
    memset(res, 0, sizeof *res);
    warden_buf b = WARDEN_BUF_INIT;
    warden__put_str(&b, req->method);
    warden__put_str(&b, req->url);
    warden__args_u32(&b, (uint32_t)req->nheaders);
    for (size_t i = 0; i < req->nheaders; i++) {
        warden__put_str(&b, req->headers[i].name);
        warden__put_str(&b, req->headers[i].value);
    }
    warden__put_len(&b, req->body, req->body ? req->body_len : 0);
    warden__args_u32(&b, req->timeout_ms);
    if (b.oom) {
        warden_buf_free(&b);
        return WARDEN_LIMIT_EXCEEDED;
    }
    int64_t len = warden_http_request((const uint8_t *)b.data, (uint32_t)b.len);
    warden_buf_free(&b);
    if (len < 0) return len < INT32_MIN ? WARDEN_INTERNAL : (int32_t)len;
    len = warden__read(warden__result_call, NULL, &res->buf);
    if (len < 0) return (int32_t)len;
    if (warden__decode_http(res, (size_t)len)) {
        warden_http_res_free(res);
        return WARDEN_INTERNAL;
    }
    return WARDEN_OK;
}

int32_t warden_http_get(const char *url, warden_http_res *res) {
    warden_http_req req = {"GET", url, NULL, 0, NULL, 0, 0};
    return warden_http_send(&req, res);
}

int32_t warden_http_post(const char *url, const char *content_type, const void *body, size_t len, warden_http_res *res) {
    warden_header h = {"Content-Type", content_type};
    warden_http_req req = {"POST", url, &h, 1, body, len, 0};
    return warden_http_send(&req, res);
}

static int warden__lower(int c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

int warden_http_header(const warden_http_res *res, const char *name, warden_bytes *value) {
    size_t n = strlen(name);
    for (uint32_t i = 0; i < res->nheaders; i++) {
        const warden_bytes *k = &res->headers[i].name;
        size_t j = 0;
        while (j < n && k->len == n && warden__lower(k->ptr[j]) == warden__lower((unsigned char)name[j])) j++;
        if (k->len == n && j == n) {
            *value = res->headers[i].value;
            return 1;
        }
    }
    return 0;
}

void warden_http_res_free(warden_http_res *res) {
    free(res->headers);
    free(res->buf);
    memset(res, 0, sizeof *res);
}

int32_t warden_http_code(int32_t st) {
    switch (st) {
    case WARDEN_NOT_GRANTED: return WARDEN_CODE_PERMISSION_DENIED;
    case WARDEN_HTTP_FAILED: return WARDEN_CODE_UNAVAILABLE;
    case WARDEN_CANCELLED: return WARDEN_CODE_DEADLINE_EXCEEDED;
    case WARDEN_LIMIT_EXCEEDED: return WARDEN_CODE_RESOURCE_EXHAUSTED;
    }
    return WARDEN_CODE_INTERNAL;
}

int32_t warden_http_fail(int32_t st) {
    const char *msg = warden_errmsg();
    warden_buf b = WARDEN_BUF_INIT;
    warden_buf_str(&b, warden_status_name(st));
    warden_buf_str(&b, ": ");
    warden_buf_str(&b, *msg ? msg : warden_status_name(st));
    if (b.oom) warden_fail(warden_http_code(st), warden_status_name(st));
    else warden_error_set(warden_http_code(st), b.data, (uint32_t)b.len);
    warden_buf_free(&b);
    return 1;
}

void warden_abort(const char *msg) {
    warden_panic(msg, (uint32_t)strlen(msg));
    __builtin_trap();
}

void warden_abort_at(const char *msg, const char *file, int line) {
    warden_buf b = WARDEN_BUF_INIT;
    warden_buf_str(&b, msg);
    warden_buf_str(&b, " at ");
    warden_buf_str(&b, file);
    warden_buf_char(&b, ':');
    warden_buf_i64(&b, line);
    warden_abort(b.oom ? msg : b.data);
}

void warden_assert_fail(const char *expr, const char *file, int line, const char *func) {
    warden_buf b = WARDEN_BUF_INIT;
    warden_buf_str(&b, "assertion failed: ");
    warden_buf_str(&b, expr);
    warden_buf_str(&b, " in ");
    warden_buf_str(&b, func);
    warden_abort_at(b.oom ? expr : b.data, file, line);
}

int32_t warden_random(void *p, size_t n) {
    uint8_t *d = (uint8_t *)p;
    while (n > 0) {
        uint32_t k = n > 65536 ? 65536 : (uint32_t)n;
        int32_t st = warden_random_fill(d, k);
        if (st != WARDEN_OK) return st;
        d += k;
        n -= k;
    }
    return WARDEN_OK;
}

#endif /* WARDEN_IMPLEMENTATION */
#endif /* WARDEN_H */
