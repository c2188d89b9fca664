// Raw host imports of the Warden plugin ABI 1.1 (abi/ABI.md section 3).
//
// One declaration per host function of the module "warden_v1", with the
// parameter names of ABI.md. Pointers are byte offsets into this module's
// memory (usize), lengths are usize, and functions returning i64 return a
// length or count >= 0, or the negative ABI status on failure. Nothing here
// is checked; the rest of the SDK wraps it in a safe API.
//
// Memory ownership (ABI.md 1.1): every (ptr, len) is borrowed by the host
// only for the duration of the call, and the host writes only inside a
// (dst_ptr, dst_cap) range given in the same call. The host never calls back
// into the guest during a host call, so no garbage collection can move or
// free a buffer while the host reads it.
//
// abi/contract_test.go parses the declarations below, one per line: keep
// their shape, `@external("warden_v1", "<name>") export declare function
// <name>(<param>: <type>, ...): <type>;`, with types i32, u32, usize (wasm
// i32), i64, u64 (wasm i64) and void.

// 3.1 Registration
@external("warden_v1", "rpc_register") export declare function rpc_register(id_ptr: usize, id_len: usize, handler_id: i32, flags: i32): i32;
// 3.2 Input, output, errors
@external("warden_v1", "input_read") export declare function input_read(offset: i32, dst_ptr: usize, dst_len: usize): i32;
@external("warden_v1", "output_write") export declare function output_write(src_ptr: usize, src_len: usize): i32;
@external("warden_v1", "error_set") export declare function error_set(code: i32, msg_ptr: usize, msg_len: usize): i32;
// 3.3 Context
@external("warden_v1", "ctx_get") export declare function ctx_get(key_ptr: usize, key_len: usize, dst_ptr: usize, dst_cap: usize): i64;
// 3.4 Logging
@external("warden_v1", "log") export declare function log(level: i32, msg_ptr: usize, msg_len: usize): i32;
@external("warden_v1", "log_level") export declare function log_level(): i32;
// 3.5 Database
@external("warden_v1", "db_engine") export declare function db_engine(): i32;
@external("warden_v1", "db_exec") export declare function db_exec(sql_ptr: usize, sql_len: usize, args_ptr: usize, args_len: usize): i64;
@external("warden_v1", "db_query") export declare function db_query(sql_ptr: usize, sql_len: usize, args_ptr: usize, args_len: usize): i64;
@external("warden_v1", "result_read") export declare function result_read(dst_ptr: usize, dst_cap: usize): i64;
@external("warden_v1", "db_begin") export declare function db_begin(mode: i32): i32;
@external("warden_v1", "db_commit") export declare function db_commit(): i32;
@external("warden_v1", "db_rollback") export declare function db_rollback(): i32;
// 3.6 Diagnostics and utilities
@external("warden_v1", "last_error") export declare function last_error(dst_ptr: usize, dst_cap: usize): i64;
@external("warden_v1", "panic") export declare function panic(msg_ptr: usize, msg_len: usize): void;
@external("warden_v1", "time_now") export declare function time_now(): i64;
@external("warden_v1", "random_fill") export declare function random_fill(dst_ptr: usize, dst_len: usize): i32;
// 3.7 Custom HTTP handlers (1.1)
@external("warden_v1", "http_register") export declare function http_register(pattern_ptr: usize, pattern_len: usize, methods_ptr: usize, methods_len: usize, handler_id: i32, flags: i32): i32;
@external("warden_v1", "output_set_status") export declare function output_set_status(status: i32): i32;
@external("warden_v1", "output_add_header") export declare function output_add_header(name_ptr: usize, name_len: usize, value_ptr: usize, value_len: usize): i32;
// 3.9 Outbound HTTP (1.2)
@external("warden_v1", "http_request") export declare function http_request(req_ptr: usize, req_len: usize): i64;
