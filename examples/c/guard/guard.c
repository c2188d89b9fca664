/*
 * guard: Nakama's server-to-server RPC example in C, with the same
 * behaviour as server_rpc and server_rpc_flagged in plugins/seed:
 *
 *   - server_rpc refuses user calls in its own code (PERMISSION_DENIED), as
 *     Nakama's ServerRPC example does, and returns {"ok":true};
 *   - server_rpc_flagged is the same RPC without the guard, registered
 *     server-only, so the host refuses user calls before it runs.
 */
#define WARDEN_IMPLEMENTATION
#include "warden.h"

/* The response of both RPCs (the examples' "<JsonResponse>"). */
static const char ok_response[] = "{\"ok\":true}";

/* is_user_call reports whether a user made the call: server-to-server
 * calls never carry a user ID. warden_ctx with no buffer asks only for the
 * length: negative when absent. */
static int is_user_call(void) {
    return warden_ctx(WARDEN_CTX_USER_ID, NULL, 0) > 0;
}

/* server_rpc may only be called server to server; it ignores its payload. */
static int32_t server_rpc(const uint8_t *payload, size_t len) {
    (void)payload, (void)len;
    if (is_user_call()) {
        warden_log_str(WARDEN_LOG_ERROR, "rpc was called by a user");
        return warden_fail(WARDEN_CODE_PERMISSION_DENIED, "rpc is only callable via server to server");
    }
    /* Valid server to server RPC call, continue executing the RPC... */
    return warden_output_str(ok_response);
}

/* server_rpc_flagged is server_rpc without the guard: the host refuses
 * user calls because it is registered server-only. */
static int32_t server_rpc_flagged(const uint8_t *payload, size_t len) {
    (void)payload, (void)len;
    return warden_output_str(ok_response);
}

static int32_t init(void) {
    int32_t rc = warden_register("server_rpc", server_rpc);
    return rc ? rc : warden_register_server_only("server_rpc_flagged", server_rpc_flagged);
}

WARDEN_PLUGIN(init)
