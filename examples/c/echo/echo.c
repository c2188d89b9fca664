/*
 * echo: the smallest useful Warden plugin, in C; the C twin of plugins/echo.
 *
 *   - echo: returns the payload bytes unchanged (any bytes, even invalid UTF-8).
 *   - whoami: returns {"user_id":...,"username":...}, with null for an absent
 *     value (a server-to-server call has no user).
 */
#define WARDEN_IMPLEMENTATION
#include "warden.h"

/* echo returns the payload unchanged. */
static int32_t echo(const uint8_t *payload, size_t len) {
    return warden_output(payload, len);
}

/* json_string appends s as a JSON string: quotes, escapes for '"', '\\'
 * and control characters; other bytes as they are. */
static void json_string(warden_buf *b, const char *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    warden_buf_char(b, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            warden_buf_char(b, '\\');
            warden_buf_char(b, (char)c);
        } else if (c < 0x20) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            warden_buf_bytes(b, esc, sizeof esc);
        } else {
            warden_buf_char(b, (char)c);
        }
    }
    warden_buf_char(b, '"');
}

/* json_ctx appends context value key as a JSON string, or null when absent. */
static void json_ctx(warden_buf *b, const char *key) {
    size_t len;
    char *v = warden_ctx_dup(key, &len);
    if (v) json_string(b, v, len);
    else warden_buf_str(b, "null");
    free(v);
}

/* whoami returns the caller's user ID and username as JSON; it ignores the payload. */
static int32_t whoami(const uint8_t *payload, size_t len) {
    (void)payload, (void)len;
    warden_buf b = WARDEN_BUF_INIT;
    warden_buf_str(&b, "{\"user_id\":");
    json_ctx(&b, WARDEN_CTX_USER_ID);
    warden_buf_str(&b, ",\"username\":");
    json_ctx(&b, WARDEN_CTX_USERNAME);
    warden_buf_char(&b, '}');
    int32_t rc = b.oom ? warden_fail(WARDEN_CODE_RESOURCE_EXHAUSTED, "out of memory") : warden_output(b.data, b.len);
    warden_buf_free(&b);
    return rc;
}

static int32_t init(void) {
    int32_t rc = warden_register("echo", echo);
    return rc ? rc : warden_register("whoami", whoami);
}

WARDEN_PLUGIN(init)
