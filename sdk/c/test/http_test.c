/*
 * Unit tests of warden.h's outbound HTTP helpers (ABI 1.2), run natively
 * against the fake host of fakehost.c by sdk/c/test/run.sh.
 */
#define WARDEN_IMPLEMENTATION
#include "fakehost.h"

#include <stdio.h>

static int failures;

#define CHECK(cond, ...)                                              \
    do {                                                              \
        if (!(cond)) {                                                \
            failures++;                                               \
            fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                             \
            fputc('\n', stderr);                                      \
        }                                                             \
    } while (0)

/* A little-endian encoder, written apart from warden.h's. */
static uint8_t enc[4096];
static size_t enc_len;

static void u32(uint32_t n) {
    for (int i = 0; i < 4; i++) enc[enc_len++] = (uint8_t)(n >> (8 * i));
}

static void field(const char *s, size_t n) {
    u32((uint32_t)n);
    memcpy(enc + enc_len, s, n);
    enc_len += n;
}

static void str(const char *s) { field(s, strlen(s)); }

static int sent_equals_enc(void) { return fake_request_len == enc_len && memcmp(fake_request, enc, enc_len) == 0; }

static int bytes_are(warden_bytes b, const char *s) { return b.len == strlen(s) && memcmp(b.ptr, s, b.len) == 0; }

static void answer(void) {
    fake_answer = enc;
    fake_answer_len = enc_len;
}

static void test_request_encoding(void) {
    fake_reset();
    enc_len = 0;
    u32(204), u32(0), str("");
    uint8_t resp[64];
    memcpy(resp, enc, enc_len);
    fake_answer = resp, fake_answer_len = enc_len;
    warden_header hs[] = {{"X-A", "1"}, {"X-A", "2"}};
    warden_http_req req = {"PUT", "http://127.0.0.1:8080/x?q=1", hs, 2, "body", 4, 1500};
    warden_http_res res;
    int32_t st = warden_http_send(&req, &res);
    CHECK(st == WARDEN_OK && res.status == 204, "st %d status %d", st, res.status);
    enc_len = 0;
    str("PUT"), str("http://127.0.0.1:8080/x?q=1"), u32(2), str("X-A"), str("1"), str("X-A"), str("2"), str("body"), u32(1500);
    CHECK(sent_equals_enc(), "request bytes differ");
    warden_http_res_free(&res);
}

static void test_get_post(void) {
    uint8_t resp[64];
    fake_reset();
    enc_len = 0;
    u32(200), u32(0), str("");
    memcpy(resp, enc, enc_len);
    fake_answer = resp, fake_answer_len = enc_len;
    warden_http_res res;
    CHECK(warden_http_get("http://h/", &res) == WARDEN_OK, "get");
    warden_http_res_free(&res);
    enc_len = 0;
    str("GET"), str("http://h/"), u32(0), str(""), u32(0);
    CHECK(sent_equals_enc(), "GET bytes differ");
    CHECK(warden_http_post("http://h/p", "application/json", "{}", 2, &res) == WARDEN_OK, "post");
    warden_http_res_free(&res);
    enc_len = 0;
    str("POST"), str("http://h/p"), u32(1), str("Content-Type"), str("application/json"), str("{}"), u32(0);
    CHECK(sent_equals_enc(), "POST bytes differ");
    CHECK(fake_requests == 2, "%d requests", fake_requests);
}

static void test_response(void) {
    fake_reset();
    enc_len = 0;
    u32(404), u32(3), str("content-type"), str("text/plain"), str("x-reply"), str("one"), str("x-reply"), str("two");
    str("n\xc3\xb6pe");
    answer();
    warden_http_res res;
    CHECK(warden_http_get("https://example.com/", &res) == WARDEN_OK, "a 4xx is a response");
    CHECK(res.status == 404 && res.nheaders == 3, "status %d, %u headers", res.status, res.nheaders);
    CHECK(bytes_are(res.body, "n\xc3\xb6pe"), "body");
    warden_bytes v;
    CHECK(warden_http_header(&res, "Content-Type", &v) && bytes_are(v, "text/plain"), "Content-Type");
    CHECK(warden_http_header(&res, "X-REPLY", &v) && bytes_are(v, "one"), "first X-Reply");
    CHECK(!warden_http_header(&res, "x-missing", &v), "x-missing found");
    CHECK(!warden_http_header(&res, "x-repl", &v), "a prefix matched");
    CHECK(bytes_are(res.headers[2].name, "x-reply") && bytes_are(res.headers[2].value, "two"), "third header");
    warden_http_res_free(&res);
    CHECK(res.buf == NULL && res.headers == NULL, "free");
}

static void test_bad_response(void) {
    static const size_t cut[] = {1, 0};
    for (int i = 0; i < 2; i++) {
        fake_reset();
        enc_len = 0;
        u32(200), u32(0), str("abc");
        if (cut[i]) enc_len -= cut[i];
        else enc[enc_len++] = 0; /* trailing */
        answer();
        warden_http_res res;
        int32_t st = warden_http_get("http://h/", &res);
        CHECK(st == WARDEN_INTERNAL && res.buf == NULL, "case %d: st %d", i, st);
    }
}

static void test_errors(void) {
    static const struct {
        int32_t status, code;
        const char *name;
    } cases[] = {
        {WARDEN_NOT_GRANTED, WARDEN_CODE_PERMISSION_DENIED, "NOT_GRANTED"},
        {WARDEN_HTTP_FAILED, WARDEN_CODE_UNAVAILABLE, "HTTP_FAILED"},
        {WARDEN_CANCELLED, WARDEN_CODE_DEADLINE_EXCEEDED, "CANCELLED"},
        {WARDEN_LIMIT_EXCEEDED, WARDEN_CODE_RESOURCE_EXHAUSTED, "LIMIT_EXCEEDED"},
        {WARDEN_BAD_ARGUMENT, WARDEN_CODE_INTERNAL, "BAD_ARGUMENT"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        fake_reset();
        fake_status = cases[i].status;
        fake_message = "host says no";
        warden_header h = {"A", "b"};
        warden_http_req req = {"GET", "http://h/", &h, 1, NULL, 0, 0};
        warden_http_res res;
        int32_t st = warden_http_send(&req, &res);
        CHECK(st == cases[i].status, "%s: st %d", cases[i].name, st);
        CHECK(strcmp(warden_status_name(st), cases[i].name) == 0, "name %s", warden_status_name(st));
        CHECK(strcmp(warden_errmsg(), "host says no") == 0, "errmsg %s", warden_errmsg());
        CHECK(warden_http_code(st) == cases[i].code, "%s: code %d", cases[i].name, warden_http_code(st));
        CHECK(warden_http_fail(st) == 1, "fail returns 1");
        char want[64];
        snprintf(want, sizeof want, "%s: host says no", cases[i].name);
        CHECK(fake_error_code == cases[i].code && strcmp(fake_error_msg, want) == 0, "error %d %s", fake_error_code,
              fake_error_msg);
    }
}

int main(void) {
    test_request_encoding();
    test_get_post();
    test_response();
    test_bad_response();
    test_errors();
    if (failures) {
        fprintf(stderr, "FAIL: %d checks\n", failures);
        return 1;
    }
    printf("ok: warden.h outbound HTTP\n");
    return 0;
}
