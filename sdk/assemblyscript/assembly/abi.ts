// The numbers and names of the Warden plugin ABI 1.1 (abi/ABI.md), as the
// Go package abi spells them. The raw imports are in env.ts.

/** ABI_VERSION is the ABI version this SDK implements, as "major.minor". */
export const ABI_VERSION = "1.2";

/** MODULE is the import module of every host function. */
export const MODULE = "warden_v1";

/**
 * Status is what a host function returns for an expected failure
 * (ABI.md 1.2). i32 results are a Status; i64 results are a Status when
 * negative.
 */
export enum Status {
  OK = 0,
  NOT_FOUND = -1,
  BAD_ARGUMENT = -2,
  INVALID_MEMORY = -3,
  NOT_ALLOWED = -4,
  ALREADY_EXISTS = -5,
  LIMIT_EXCEEDED = -6,
  DB_ERROR = -7,
  UNIMPLEMENTED = -8,
  INTERNAL = -9,
  CANCELLED = -10,
  DB_BUSY = -11,
  TX_FAILED = -12,
  TX_STATE = -13,
  DB_READ_ONLY = -14,
  BUFFER_TOO_SMALL = -15,
  /** 1.2: an http_request the plugin's grants do not allow. */
  NOT_GRANTED = -16,
  /** 1.2: an http_request that got no response. */
  HTTP_FAILED = -17,
}

const STATUS_NAMES: string[] = [
  "OK", "NOT_FOUND", "BAD_ARGUMENT", "INVALID_MEMORY", "NOT_ALLOWED",
  "ALREADY_EXISTS", "LIMIT_EXCEEDED", "DB_ERROR", "UNIMPLEMENTED", "INTERNAL",
  "CANCELLED", "DB_BUSY", "TX_FAILED", "TX_STATE", "DB_READ_ONLY",
  "BUFFER_TOO_SMALL", "NOT_GRANTED", "HTTP_FAILED",
];

/** statusName returns the ABI.md name of status `s`, such as "DB_BUSY", or "UNKNOWN". */
export function statusName(s: i32): string {
  const i = -s;
  return i >= 0 && i < STATUS_NAMES.length ? STATUS_NAMES[i] : "UNKNOWN";
}

/** Flag is a bit of rpc_register's and http_register's flags (ABI.md 3.1). */
export enum Flag {
  /** The host refuses a call that carries a user ID with PERMISSION_DENIED. */
  SERVER_ONLY = 1,
  /** HTTP handlers: the host answers 401 without a valid Bearer session. */
  SESSION_REQUIRED = 2,
}

/** Level is a log level, and the result of log_level (ABI.md 3.4). */
export enum Level {
  DEBUG = 0,
  INFO = 1,
  WARN = 2,
  ERROR = 3,
  /** Returned by log_level when logging is off. */
  DISABLED = 7,
}

/** Engine is the result of db_engine (ABI.md 3.5). */
export enum Engine {
  NONE = 0,
  SQLITE = 1,
  /** Reserved. */
  POSTGRESQL = 2,
}

/** TxMode is db_begin's mode (ABI.md 3.5). */
export enum TxMode {
  /** Writes fail with DB_READ_ONLY. */
  READ_ONLY = 0,
  /** Takes the write lock at once. */
  READ_WRITE = 1,
}

/** Tag is the first byte of an encoded value (ABI.md 4.1). */
export enum Tag {
  NULL = 0,
  INT64 = 1,
  FLOAT64 = 2,
  TEXT = 3,
  BLOB = 4,
}

/**
 * CtxKey holds the keys of ctx_get (ABI.md 3.3). Keys ending in a dot are
 * prefixes for one entry of a map, such as "header.Content-Type".
 */
export namespace CtxKey {
  export const USER_ID = "user_id";
  export const USERNAME = "username";
  export const USER_SESSION_EXP = "user_session_exp";
  export const VARS = "vars";
  export const VAR_PREFIX = "var.";
  export const HEADERS = "headers";
  export const HEADER_PREFIX = "header.";
  export const QUERY_PARAMS = "query_params";
  export const QUERY_PREFIX = "query.";
  export const ENV = "env";
  export const ENV_PREFIX = "env.";
  export const EXECUTION_MODE = "execution_mode";
  export const NODE = "node";
  export const VERSION = "version";
  export const CLIENT_IP = "client_ip";
  export const CLIENT_PORT = "client_port";
  export const TRACE_ID = "trace_id";
  export const RPC_ID = "rpc_id";
  export const PLUGIN_NAME = "plugin_name";
  export const PLUGIN_VERSION = "plugin_version";
  export const HTTP_METHOD = "http_method";
  export const HTTP_PATH = "http_path";
  export const HTTP_ROUTE = "http_route";
  export const ROUTE_PREFIX = "route.";
  /** The execution_mode of an RPC. */
  export const MODE_RPC = "rpc";
  /** The execution_mode of a custom HTTP handler. */
  export const MODE_HTTP = "http";
}

/** Limit holds the limits the host enforces (abi.go); some are configurable defaults. */
export namespace Limit {
  export const MAX_ID_BYTES = 128;
  export const MAX_RPCS_PER_PLUGIN = 1024;
  export const MAX_LOG_BYTES = 8 << 10;
  export const MAX_ERROR_BYTES = 8 << 10;
  export const MAX_SQL_BYTES = 64 << 10;
  export const MAX_ARGS_BYTES = 16 << 20;
  export const MAX_RANDOM_BYTES = 64 << 10;
  export const MAX_ROUTES_PER_PLUGIN = 256;
  /** The default output limit; the server's configuration may change it. */
  export const DEFAULT_MAX_OUTPUT_BYTES = 4 << 20;
}
