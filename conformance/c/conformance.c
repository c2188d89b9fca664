/*
 * The conformance plugin of conformance/SPEC.md in C, written with the C
 * SDK's helpers (sdk/c/warden.h) wherever they offer the feature, so that
 * TestConformance checks the SDK as well as the host. It uses no printf, so
 * it imports nothing but warden_v1.
 */
#define WARDEN_IMPLEMENTATION
#include "warden.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The output of a handler, built line by line. */
typedef warden_buf lines;

/* put appends "key=value\n". */
static void put(lines *out, const char *key, const char *value) {
    warden_buf_str(out, key);
    warden_buf_char(out, '=');
    warden_buf_str(out, value);
    warden_buf_char(out, '\n');
}

/* put_i64 appends "key=<n>\n". */
static void put_i64(lines *out, const char *key, int64_t n) {
    warden_buf_str(out, key);
    warden_buf_char(out, '=');
    warden_buf_i64(out, n);
    warden_buf_char(out, '\n');
}

/* finish writes out as the call's output and frees it. */
static int32_t finish(lines *out) {
    int32_t rc = out->oom ? warden_fail(WARDEN_CODE_RESOURCE_EXHAUSTED, "out of memory")
                          : warden_output(out->data, out->len);
    warden_buf_free(out);
    return rc;
}

/* put_ctx appends "key=<value>" for context key prefix+name, or <absent>. */
static void put_ctx(lines *out, const char *key, const char *prefix, const char *name) {
    size_t len;
    char *v = prefix ? warden_ctx_dup2(prefix, name, &len) : warden_ctx_dup(key, &len);
    warden_buf_str(out, key);
    warden_buf_char(out, '=');
    if (v) warden_buf_bytes(out, v, len);
    else warden_buf_str(out, "<absent>");
    warden_buf_char(out, '\n');
    free(v);
}

/* put_presence appends "key=<present>" or "key=<absent>". A client_port
 * that is not a port counts as absent, as in the other SDKs. */
static void put_presence(lines *out, const char *key) {
    size_t len;
    char *v = warden_ctx_dup(key, &len);
    int ok = v != NULL;
    if (ok && strcmp(key, WARDEN_CTX_CLIENT_PORT) == 0) {
        char *end;
        unsigned long port = strtoul(v, &end, 10);
        ok = len > 0 && *end == 0 && v[0] >= '0' && v[0] <= '9' && port <= 65535;
    }
    put(out, key, ok ? "<present>" : "<absent>");
    free(v);
}

/* map_count counts the pairs of the map at key whose key is only (all
 * pairs when only is NULL); 0 when absent or malformed. */
static int64_t map_count(const char *key, const char *only) {
    size_t len;
    char *m = warden_ctx_dup(key, &len);
    int64_t n = 0;
    warden_map_iter it;
    warden_bytes k, v;
    if (m && warden_map_init(&it, m, len) == 0) {
        while (warden_map_next(&it, &k, &v) == 1)
            if (!only || (k.len == strlen(only) && memcmp(k.ptr, only, k.len) == 0)) n++;
    }
    free(m);
    return n;
}

/* ctx prints each context key of the spec, in its order. */
static int32_t ctx(const uint8_t *payload, size_t len) {
    (void)payload, (void)len;
    lines out = WARDEN_BUF_INIT;
    put_ctx(&out, WARDEN_CTX_USER_ID, NULL, NULL);
    put_ctx(&out, WARDEN_CTX_USERNAME, NULL, NULL);
    put_ctx(&out, WARDEN_CTX_USER_SESSION_EXP, NULL, NULL);
    put_ctx(&out, "var.tier", WARDEN_CTX_VAR_PREFIX, "tier");
    put_ctx(&out, "var.missing", WARDEN_CTX_VAR_PREFIX, "missing");
    put_ctx(&out, "header.X-Conformance", WARDEN_CTX_HEADER_PREFIX, "X-Conformance");
    put_ctx(&out, "query.q", WARDEN_CTX_QUERY_PREFIX, "q");
    put_ctx(&out, "env.MODE", WARDEN_CTX_ENV_PREFIX, "MODE");
    put_ctx(&out, "env.missing", WARDEN_CTX_ENV_PREFIX, "missing");
    put_ctx(&out, WARDEN_CTX_EXECUTION_MODE, NULL, NULL);
    put_ctx(&out, WARDEN_CTX_NODE, NULL, NULL);
    put_ctx(&out, WARDEN_CTX_RPC_ID, NULL, NULL);
    put_ctx(&out, WARDEN_CTX_PLUGIN_NAME, NULL, NULL);
    put_presence(&out, WARDEN_CTX_TRACE_ID);
    put_presence(&out, WARDEN_CTX_CLIENT_IP);
    put_presence(&out, WARDEN_CTX_CLIENT_PORT);
    put_i64(&out, "headers.count", map_count(WARDEN_CTX_HEADERS, "X-Conformance"));
    put_i64(&out, "vars.count", map_count(WARDEN_CTX_VARS, NULL));
    return finish(&out);
}

/* utf8_count returns the number of code points of s, or -1 when s is not
 * UTF-8 (no overlong forms, surrogates or values past U+10FFFF). */
static int64_t utf8_count(const uint8_t *s, size_t len) {
    int64_t n = 0;
    for (size_t i = 0; i < len; n++) {
        uint8_t c = s[i];
        size_t k;
        uint32_t min, cp;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xe0) == 0xc0) k = 1, min = 0x80, cp = c & 0x1f;
        else if ((c & 0xf0) == 0xe0) k = 2, min = 0x800, cp = c & 0x0f;
        else if ((c & 0xf8) == 0xf0) k = 3, min = 0x10000, cp = c & 0x07;
        else return -1;
        if (len - i - 1 < k) return -1;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80) return -1;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return -1;
        i += k + 1;
    }
    return n;
}

/* not_utf8 fails the call as the other SDKs' text handlers do. */
static int32_t not_utf8(void) {
    return warden_fail(WARDEN_CODE_INVALID_ARGUMENT, "payload is not valid UTF-8");
}

/* log_at logs "<word> <payload>" at level. */
static void log_at(int32_t level, const char *word, const uint8_t *payload, size_t len) {
    warden_buf b = WARDEN_BUF_INIT;
    warden_buf_str(&b, word);
    warden_buf_char(&b, ' ');
    warden_buf_bytes(&b, payload, len);
    if (!b.oom) warden_log_bytes(level, b.data, b.len);
    warden_buf_free(&b);
}

/* log logs the payload at each level and returns the lowest level written. */
static int32_t log_rpc(const uint8_t *payload, size_t len) {
    if (utf8_count(payload, len) < 0) return not_utf8();
    log_at(WARDEN_LOG_DEBUG, "debug", payload, len);
    log_at(WARDEN_LOG_INFO, "info", payload, len);
    log_at(WARDEN_LOG_WARN, "warn", payload, len);
    log_at(WARDEN_LOG_ERROR, "error", payload, len);
    warden_buf out = WARDEN_BUF_INIT;
    warden_buf_i64(&out, warden_log_level());
    return finish(&out);
}

/* status_name returns "ok" or the lowercase ABI name of st. */
static const char *status_name(int64_t st) {
    static char name[32];
    if (st >= 0) return "ok";
    const char *s = warden_status_name((int32_t)st);
    size_t i = 0;
    for (; s[i] && i < sizeof name - 1; i++) name[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
    name[i] = 0;
    return name;
}

#define CREATE "CREATE TABLE IF NOT EXISTS conf_values " \
    "(id BIGINT PRIMARY KEY, i BIGINT, f DOUBLE PRECISION, t TEXT, b BLOB)"
#define INSERT "INSERT INTO conf_values (id, i, f, t, b) VALUES ($1, $2, $3, $4, $5)"

/* column_of returns the column (1 i, 2 f, 3 t, 4 b) that holds the value of
 * step 2 for id, or 0 for id 1, which is NULL in all four. */
static int column_of(int64_t id) {
    if (id >= 2 && id <= 4) return 1;
    if (id >= 5 && id <= 8) return 2;
    if (id >= 9 && id <= 10) return 3;
    if (id >= 11 && id <= 12) return 4;
    return 0;
}

/* add_value adds the value of step 2 for id to a. */
static void add_value(warden_args *a, int id) {
    static const uint8_t blob[] = {0x00, 0xff, 0x10};
    switch (id) {
    case 1: warden_args_null(a); break;
    case 2: warden_args_int(a, INT64_MIN); break;
    case 3: warden_args_int(a, INT64_MAX); break;
    case 4: warden_args_int(a, 0); break;
    case 5: warden_args_float(a, 0.5); break;
    case 6: warden_args_float(a, INFINITY); break;
    case 7: warden_args_float(a, -INFINITY); break;
    case 8: warden_args_float(a, NAN); break;
    case 9: warden_args_str(a, ""); break;
    case 10: warden_args_str(a, "h\xc3\xa9llo, \xe4\xb8\x96\xe7\x95\x8c"); break;
    case 11: warden_args_blob(a, blob, 0); break;
    case 12: warden_args_blob(a, blob, sizeof blob); break;
    }
}

/* insert_all is step 2: one write transaction; returns the first failure. */
static int64_t insert_all(void) {
    int64_t st = warden_db_begin(WARDEN_TX_READ_WRITE);
    if (st != WARDEN_OK) return st;
    for (int id = 1; id <= 12 && st >= 0; id++) {
        warden_args a = WARDEN_ARGS_INIT;
        warden_args_int(&a, id);
        for (int c = 1; c <= 4; c++) {
            if (c == column_of(id)) add_value(&a, id);
            else warden_args_null(&a);
        }
        st = warden_exec(INSERT, &a);
        warden_args_free(&a);
    }
    if (st >= 0) st = warden_db_commit();
    if (st < 0) warden_db_rollback();
    return st;
}

/* put_value appends "null" or "<type>:<value>" for v. */
static void put_value(lines *out, const warden_value *v) {
    uint64_t bits;
    switch (v ? v->tag : -1) {
    case WARDEN_NULL: warden_buf_str(out, "null"); return;
    case WARDEN_INT64: warden_buf_str(out, "int:"); warden_buf_i64(out, v->i); return;
    case WARDEN_FLOAT64: {
        uint8_t be[8];
        memcpy(&bits, &v->f, sizeof bits);
        for (int i = 0; i < 8; i++) be[i] = (uint8_t)(bits >> (56 - 8 * i));
        warden_buf_str(out, "float:");
        warden_buf_hex(out, be, sizeof be);
        return;
    }
    case WARDEN_TEXT: warden_buf_str(out, "text:"); warden_buf_hex(out, v->ptr, v->len); return;
    case WARDEN_BLOB: warden_buf_str(out, "blob:"); warden_buf_hex(out, v->ptr, v->len); return;
    }
    warden_buf_str(out, "?");
}

/* select_all is step 3: the columns, then one line per row. */
static void select_all(lines *out) {
    warden_rows rows;
    int32_t st = warden_query("SELECT id, i, f, t, b FROM conf_values ORDER BY id", NULL, &rows);
    if (st != WARDEN_OK) {
        put(out, "select", status_name(st));
        return;
    }
    warden_buf_str(out, "columns=");
    for (uint32_t c = 0; c < rows.ncols; c++) {
        if (c) warden_buf_char(out, ',');
        warden_buf_bytes(out, rows.columns[c].ptr, rows.columns[c].len);
    }
    warden_buf_char(out, '\n');
    for (uint32_t r = 0; r < rows.nrows; r++) {
        const warden_value *id = warden_rows_get(&rows, r, 0);
        if (id && id->tag == WARDEN_INT64) warden_buf_i64(out, id->i);
        else warden_buf_char(out, '?');
        for (uint32_t c = 1; c < 5; c++) {
            warden_buf_char(out, '|');
            put_value(out, warden_rows_get(&rows, r, c));
        }
        warden_buf_char(out, '\n');
    }
    warden_rows_free(&rows);
}

/* insert_null runs INSERT with id and NULLs and returns its status. */
static int64_t insert_null(int64_t id) {
    warden_args a = WARDEN_ARGS_INIT;
    warden_args_int(&a, id);
    for (int c = 1; c <= 4; c++) warden_args_null(&a);
    int64_t st = warden_exec(INSERT, &a);
    warden_args_free(&a);
    return st;
}

/* tx_rules is steps 4 and 5: a failed transaction, then a read-only one. */
static void tx_rules(lines *out) {
    put(out, "begin", status_name(warden_db_begin(WARDEN_TX_READ_WRITE)));
    put(out, "bad", status_name(warden_exec("INSERT INTO conf_missing_table VALUES (1)", NULL)));
    put(out, "after_bad", status_name(insert_null(100)));
    put(out, "commit_failed", status_name(warden_db_commit()));
    put(out, "rollback", status_name(warden_db_rollback()));
    warden_rows rows;
    int32_t st = warden_query("SELECT COUNT(*) FROM conf_values WHERE id = 100", NULL, &rows);
    if (st != WARDEN_OK) {
        put(out, "count_100", status_name(st));
    } else {
        const warden_value *n = warden_rows_get(&rows, 0, 0);
        if (n && n->tag == WARDEN_INT64) put_i64(out, "count_100", n->i);
        else put(out, "count_100", "?");
        warden_rows_free(&rows);
    }

    put(out, "begin_read", status_name(warden_db_begin(WARDEN_TX_READ_ONLY)));
    put(out, "write_in_read", status_name(insert_null(101)));
    put(out, "rollback_read", status_name(warden_db_rollback()));
}

/* db runs the spec's seven database steps and prints one line per step. */
static int32_t db(const uint8_t *payload, size_t len) {
    (void)payload, (void)len;
    lines out = WARDEN_BUF_INIT;
    put(&out, "create", status_name(warden_exec(CREATE, NULL)));
    put(&out, "insert", status_name(insert_all()));
    select_all(&out);
    tx_rules(&out);
    switch (warden_db_engine()) {
    case WARDEN_ENGINE_NONE: put(&out, "engine", "none"); break;
    case WARDEN_ENGINE_SQLITE: put(&out, "engine", "sqlite"); break;
    case WARDEN_ENGINE_POSTGRES: put(&out, "engine", "postgresql"); break;
    default: put_i64(&out, "engine", warden_db_engine());
    }
    int64_t n = warden_exec("DELETE FROM conf_values", NULL);
    if (n < 0) put(&out, "deleted", status_name(n));
    else put_i64(&out, "deleted", n);
    return finish(&out);
}

/* parse_i32 parses an optionally signed decimal int32; returns 0 or -1. */
static int parse_i32(const uint8_t *s, size_t len, int32_t *out) {
    size_t i = 0;
    int neg = 0;
    int64_t v = 0;
    if (len > 0 && (s[0] == '+' || s[0] == '-')) neg = s[0] == '-', i = 1;
    if (i == len) return -1;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
        if (v > (int64_t)INT32_MAX + 1) return -1;
    }
    if (neg) v = -v;
    if (v > INT32_MAX || v < INT32_MIN) return -1;
    *out = (int32_t)v;
    return 0;
}

/* error fails with the code in the payload and the message "error N". */
static int32_t error_rpc(const uint8_t *payload, size_t len) {
    int32_t n;
    if (utf8_count(payload, len) < 0) return not_utf8();
    if (parse_i32(payload, len, &n)) return warden_fail(WARDEN_CODE_INVALID_ARGUMENT, "payload must be a number");
    warden_buf msg = WARDEN_BUF_INIT;
    warden_buf_str(&msg, "error ");
    warden_buf_i64(&msg, n);
    int32_t rc = warden_fail(n, msg.oom ? "error" : msg.data);
    warden_buf_free(&msg);
    return rc;
}

/* panic_rpc panics; the SDK reports the message and its location. */
static int32_t panic_rpc(const uint8_t *payload, size_t len) {
    (void)payload, (void)len;
    WARDEN_PANIC("conformance panic");
}

/* echo returns the payload unchanged. */
static int32_t echo(const uint8_t *payload, size_t len) {
    return warden_output(payload, len);
}

/* text returns "<code points>:<payload>". */
static int32_t text(const uint8_t *payload, size_t len) {
    int64_t n = utf8_count(payload, len);
    if (n < 0) return not_utf8();
    warden_buf out = WARDEN_BUF_INIT;
    warden_buf_i64(&out, n);
    warden_buf_char(&out, ':');
    warden_buf_bytes(&out, payload, len);
    return finish(&out);
}

/* whoami says whether the call has a user. */
static int32_t whoami(const uint8_t *payload, size_t len) {
    (void)payload, (void)len;
    return warden_output_str(warden_ctx(WARDEN_CTX_USER_ID, NULL, 0) >= 0 ? "user" : "server");
}

/* show_http appends one outbound request's outcome as SPEC.md prints it. */
static void show_http(lines *out, const char *name, int32_t st, warden_http_res *res) {
    warden_buf_str(out, name);
    if (st != WARDEN_OK) {
        put(out, "", status_name(st));
        warden_buf_str(out, name);
        put(out, ".message", warden_errmsg());
        return;
    }
    put_i64(out, ".status", res->status);
    warden_bytes v;
    warden_buf_str(out, name);
    warden_buf_str(out, ".x-reply=");
    if (warden_http_header(res, "X-Reply", &v)) warden_buf_bytes(out, v.ptr, v.len);
    else warden_buf_str(out, "<absent>");
    int64_t n = 0;
    for (uint32_t i = 0; i < res->nheaders; i++)
        n += res->headers[i].name.len == 7 && memcmp(res->headers[i].name.ptr, "x-reply", 7) == 0;
    warden_buf_char(out, '\n');
    warden_buf_str(out, name);
    put_i64(out, ".x-reply.count", n);
    warden_buf_str(out, name);
    warden_buf_str(out, ".body=");
    warden_buf_bytes(out, res->body.ptr, res->body.len);
    warden_buf_char(out, '\n');
    warden_http_res_free(res);
}

/* http_rpc makes the four requests of SPEC.md's http RPC to the runner's
 * server, whose base URL is the env entry CONF_HTTP_BASE. */
static int32_t http_rpc(const uint8_t *payload, size_t len) {
    (void)payload, (void)len;
    char *base = warden_ctx_dup2(WARDEN_CTX_ENV_PREFIX, "CONF_HTTP_BASE", NULL);
    if (!base) return warden_fail(WARDEN_CODE_FAILED_PRECONDITION, "CONF_HTTP_BASE is not set");
    lines out = WARDEN_BUF_INIT, url = WARDEN_BUF_INIT;
    warden_http_res res;
    warden_buf_str(&url, base);
    warden_buf_str(&url, "/get?x=1");
    show_http(&out, "get", warden_http_get(url.data, &res), &res);
    url.len = strlen(base);
    warden_buf_str(&url, "/post");
    warden_header hs[] = {{"X-Conformance", "conf"}, {"Content-Type", "text/plain"}};
    warden_http_req req = {"POST", url.data, hs, 2, "h\xc3\xa9llo", 6, 0};
    show_http(&out, "post", warden_http_send(&req, &res), &res);
    url.len = strlen(base);
    warden_buf_str(&url, "/missing");
    show_http(&out, "missing", warden_http_post(url.data, "text/plain", "x", 1, &res), &res);
    show_http(&out, "refused", warden_http_get("http://example.com/conformance?secret=1", &res), &res);
    warden_buf_free(&url);
    free(base);
    return finish(&out);
}

static int32_t init(void) {
    int32_t rc = 0;
    if (!rc) rc = warden_register("ctx", ctx);
    if (!rc) rc = warden_register("log", log_rpc);
    if (!rc) rc = warden_register_server_only("db", db);
    if (!rc) rc = warden_register("error", error_rpc);
    if (!rc) rc = warden_register("panic", panic_rpc);
    if (!rc) rc = warden_register("echo", echo);
    if (!rc) rc = warden_register("text", text);
    if (!rc) rc = warden_register("http", http_rpc);
    if (!rc) rc = warden_register("whoami", whoami);
    return rc;
}

WARDEN_PLUGIN(init)
