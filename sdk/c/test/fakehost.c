/*
 * A fake warden_v1 host for native unit tests of warden.h: the raw imports
 * as plain C functions. http_request records the encoded request and
 * answers from fake_answer / fake_status; the others do what the tests
 * need and no more.
 */
#include <stdlib.h>
#include <string.h>

#include "fakehost.h"

uint8_t fake_request[4096];
size_t fake_request_len;
int fake_requests;
const uint8_t *fake_answer;
size_t fake_answer_len;
int32_t fake_status;
const char *fake_message;
int32_t fake_error_code;
char fake_error_msg[1024];

static const uint8_t *slot;
static size_t slot_len;
static const char *last_error;

void fake_reset(void) {
    fake_request_len = 0;
    fake_requests = 0;
    fake_answer = NULL;
    fake_answer_len = 0;
    fake_status = 0;
    fake_message = NULL;
    fake_error_code = 0;
    fake_error_msg[0] = 0;
    slot = NULL;
    last_error = NULL;
}

/* put applies the buffer convention. */
static int64_t put(const void *v, size_t n, uint8_t *dst, uint32_t cap) {
    if (n <= cap && n) memcpy(dst, v, n);
    return (int64_t)n;
}

int64_t warden_http_request(const uint8_t *req_ptr, uint32_t req_len) {
    fake_requests++;
    fake_request_len = req_len < sizeof fake_request ? req_len : sizeof fake_request;
    memcpy(fake_request, req_ptr, fake_request_len);
    if (fake_status < 0) {
        last_error = fake_message;
        return fake_status;
    }
    slot = fake_answer;
    slot_len = fake_answer_len;
    return (int64_t)fake_answer_len;
}

int64_t warden_result_read(uint8_t *dst_ptr, uint32_t dst_cap) {
    if (!slot) {
        last_error = "result slot is empty";
        return -1;
    }
    int64_t n = put(slot, slot_len, dst_ptr, dst_cap);
    if (n <= dst_cap) slot = NULL;
    return n;
}

int64_t warden_last_error(uint8_t *dst_ptr, uint32_t dst_cap) {
    if (!last_error) return -1;
    return put(last_error, strlen(last_error), dst_ptr, dst_cap);
}

int32_t warden_error_set(int32_t code, const char *msg_ptr, uint32_t msg_len) {
    fake_error_code = code;
    size_t n = msg_len < sizeof fake_error_msg - 1 ? msg_len : sizeof fake_error_msg - 1;
    memcpy(fake_error_msg, msg_ptr, n);
    fake_error_msg[n] = 0;
    return 0;
}

/* The imports these tests do not reach. */
int32_t warden_rpc_register(const char *a, uint32_t b, int32_t c, int32_t d) { return (void)a, (void)b, (void)c, (void)d, -8; }
int32_t warden_input_read(int32_t a, uint8_t *b, uint32_t c) { return (void)a, (void)b, (void)c, 0; }
int32_t warden_output_write(const uint8_t *a, uint32_t b) { return (void)a, (void)b, 0; }
int64_t warden_ctx_get(const char *a, uint32_t b, uint8_t *c, uint32_t d) { return (void)a, (void)b, (void)c, (void)d, -1; }
int32_t warden_log(int32_t a, const char *b, uint32_t c) { return (void)a, (void)b, (void)c, 0; }
int32_t warden_log_level(void) { return 0; }
int32_t warden_db_engine(void) { return 0; }
int64_t warden_db_exec(const char *a, uint32_t b, const uint8_t *c, uint32_t d) { return (void)a, (void)b, (void)c, (void)d, -8; }
int64_t warden_db_query(const char *a, uint32_t b, const uint8_t *c, uint32_t d) { return (void)a, (void)b, (void)c, (void)d, -8; }
int32_t warden_db_begin(int32_t a) { return (void)a, -8; }
int32_t warden_db_commit(void) { return -8; }
int32_t warden_db_rollback(void) { return -8; }
void warden_panic(const char *a, uint32_t b) { (void)a, (void)b; abort(); }
int64_t warden_time_now(void) { return 0; }
int32_t warden_random_fill(uint8_t *a, uint32_t b) { return (void)a, (void)b, -8; }
int32_t warden_http_register(const char *a, uint32_t b, const char *c, uint32_t d, int32_t e, int32_t f) { return (void)a, (void)b, (void)c, (void)d, (void)e, (void)f, -8; }
int32_t warden_output_set_status(int32_t a) { return (void)a, -8; }
int32_t warden_output_add_header(const char *a, uint32_t b, const char *c, uint32_t d) { return (void)a, (void)b, (void)c, (void)d, -8; }
