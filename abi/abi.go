// Package abi holds the wire contract between Warden and its WebAssembly
// plugins: the ABI version, the names of every import and export, status and
// error codes, limits and the binary value encoding. ABI.md beside this file is
// the human-readable specification; a contract test keeps the two in step.
//
// The package imports only the standard library and holds no mutable state.
package abi

// Version is the ABI version this server implements, as "major.minor".
// Minor versions only add functions, context keys and enum values.
const Version = "1.2"

// Major is the major version of Version. It appears in ModuleName and
// MarkerExport, so a plugin built for another major fails to load.
const Major = 1

// ModuleName is the import module that every Warden host function lives in.
const ModuleName = "warden_v1"

// Export names a plugin provides.
const (
	// ExportMemory is the guest's linear memory.
	ExportMemory = "memory"
	// ExportMarker is the ABI marker, () -> (). It is never called.
	ExportMarker = "warden_abi_v1"
	// ExportInitialize is the optional reactor initialiser, () -> ().
	ExportInitialize = "_initialize"
	// ExportInit is the plugin's init, () -> i32, where it registers RPCs.
	ExportInit = "warden_init"
	// ExportHandle runs one call, (handler_id i32, input_len i32) -> i32.
	ExportHandle = "warden_handle"
)

// Export names the host reserves: it adds these exports to every plugin
// when it instruments the module at load (package interrupt), and refuses
// a plugin that imports or exports either itself.
const (
	// ExportInterrupt is the mutable i32 global the host sets to 1 at a
	// call's deadline; the guest then traps at its next function entry or
	// loop iteration.
	ExportInterrupt = "__warden_interrupt"
	// ExportStart is the module's start function, () -> (), moved out of
	// its start section so that the host can run it under the init
	// deadline, before _initialize.
	ExportStart = "__warden_start"
	// ExportCallStack is the mutable i32 global in which an instrumented
	// guest counts the call stack its call takes, in 8-byte slots; past
	// MaxCallStackSlots the guest traps, and the host reads it to say the
	// trap was a stack overflow.
	ExportCallStack = "__warden_call_stack"
)

// Import names of the host functions in module ModuleName.
const (
	FuncRPCRegister = "rpc_register"
	FuncInputRead   = "input_read"
	FuncOutputWrite = "output_write"
	FuncErrorSet    = "error_set"
	FuncCtxGet      = "ctx_get"
	FuncLog         = "log"
	FuncLogLevel    = "log_level"
	FuncDBEngine    = "db_engine"
	FuncDBExec      = "db_exec"
	FuncDBQuery     = "db_query"
	FuncDBBegin     = "db_begin"
	FuncDBCommit    = "db_commit"
	FuncDBRollback  = "db_rollback"
	FuncResultRead  = "result_read"
	FuncLastError   = "last_error"
	FuncPanic       = "panic"
	FuncTimeNow     = "time_now"
	FuncRandomFill  = "random_fill"
	// Added in 1.1: custom HTTP handlers.
	FuncHTTPRegister    = "http_register"
	FuncOutputSetStatus = "output_set_status"
	FuncOutputAddHeader = "output_add_header"
	// Added in 1.2: outbound HTTP under the plugin's grants.
	FuncHTTPRequest = "http_request"
)

// WASIModuleName is the WASI preview 1 module the host also provides, for
// guests (Go, C with libc) whose toolchains import it.
const WASIModuleName = "wasi_snapshot_preview1"

// ValType is a WebAssembly value type of an ABI function parameter or result.
type ValType byte

// Value types used by the ABI. Only i32 and i64 cross the boundary.
const (
	I32 ValType = 'i'
	I64 ValType = 'I'
)

// Func describes one host function: its name, parameter and result types.
type Func struct {
	Name    string
	Params  []ValType
	Results []ValType
}

// Imports returns the host functions of ModuleName, in ABI.md order. Each
// call returns a fresh slice.
func Imports() []Func {
	return []Func{
		{FuncRPCRegister, []ValType{I32, I32, I32, I32}, []ValType{I32}},
		{FuncInputRead, []ValType{I32, I32, I32}, []ValType{I32}},
		{FuncOutputWrite, []ValType{I32, I32}, []ValType{I32}},
		{FuncErrorSet, []ValType{I32, I32, I32}, []ValType{I32}},
		{FuncCtxGet, []ValType{I32, I32, I32, I32}, []ValType{I64}},
		{FuncLog, []ValType{I32, I32, I32}, []ValType{I32}},
		{FuncLogLevel, nil, []ValType{I32}},
		{FuncDBEngine, nil, []ValType{I32}},
		{FuncDBExec, []ValType{I32, I32, I32, I32}, []ValType{I64}},
		{FuncDBQuery, []ValType{I32, I32, I32, I32}, []ValType{I64}},
		{FuncDBBegin, []ValType{I32}, []ValType{I32}},
		{FuncDBCommit, nil, []ValType{I32}},
		{FuncDBRollback, nil, []ValType{I32}},
		{FuncResultRead, []ValType{I32, I32}, []ValType{I64}},
		{FuncLastError, []ValType{I32, I32}, []ValType{I64}},
		{FuncPanic, []ValType{I32, I32}, nil},
		{FuncTimeNow, nil, []ValType{I64}},
		{FuncRandomFill, []ValType{I32, I32}, []ValType{I32}},
		{FuncHTTPRegister, []ValType{I32, I32, I32, I32, I32, I32}, []ValType{I32}},
		{FuncOutputSetStatus, []ValType{I32}, []ValType{I32}},
		{FuncOutputAddHeader, []ValType{I32, I32, I32, I32}, []ValType{I32}},
		{FuncHTTPRequest, []ValType{I32, I32}, []ValType{I64}},
	}
}

// Status is what a host function returns for an expected failure. OK is
// zero; failures are negative. Functions that return a length (i64) return
// the negative Status itself on failure.
type Status int32

// Status values. The list only grows within a major version.
const (
	StatusOK             Status = 0
	StatusNotFound       Status = -1  // the key or item does not exist
	StatusBadArgument    Status = -2  // an argument is malformed (bad encoding, bad level, bad UTF-8 id)
	StatusInvalidMemory  Status = -3  // a (ptr, len) range is outside guest memory or negative
	StatusNotAllowed     Status = -4  // not allowed in this phase, or refused by policy
	StatusAlreadyExists  Status = -5  // the RPC id is registered already
	StatusLimitExceeded  Status = -6  // a size limit was hit
	StatusDBError        Status = -7  // the SQL statement failed (syntax, constraint, ...)
	StatusUnimplemented  Status = -8  // the host does not implement this
	StatusInternal       Status = -9  // a host failure that is not the guest's fault
	StatusCancelled      Status = -10 // the call's deadline passed during the host call
	StatusDBBusy         Status = -11 // retryable: the database is busy or a conflict aborted the work
	StatusTxFailed       Status = -12 // an earlier statement failed; only db_rollback is accepted
	StatusTxState        Status = -13 // begin inside a transaction, or commit/rollback outside one
	StatusDBReadOnly     Status = -14 // a write inside a read-only transaction
	StatusBufferTooSmall Status = -15 // reserved; length-returning functions return the needed length instead
	StatusNotGranted     Status = -16 // 1.2: the plugin's grants do not allow this URL, address or redirect
	StatusHTTPFailed     Status = -17 // 1.2: an outbound request got no response (DNS, connection, TLS, protocol, timeout)
)

// String returns the status name as ABI.md spells it.
func (s Status) String() string {
	switch s {
	case StatusOK:
		return "OK"
	case StatusNotFound:
		return "NOT_FOUND"
	case StatusBadArgument:
		return "BAD_ARGUMENT"
	case StatusInvalidMemory:
		return "INVALID_MEMORY"
	case StatusNotAllowed:
		return "NOT_ALLOWED"
	case StatusAlreadyExists:
		return "ALREADY_EXISTS"
	case StatusLimitExceeded:
		return "LIMIT_EXCEEDED"
	case StatusDBError:
		return "DB_ERROR"
	case StatusUnimplemented:
		return "UNIMPLEMENTED"
	case StatusInternal:
		return "INTERNAL"
	case StatusCancelled:
		return "CANCELLED"
	case StatusDBBusy:
		return "DB_BUSY"
	case StatusTxFailed:
		return "TX_FAILED"
	case StatusTxState:
		return "TX_STATE"
	case StatusDBReadOnly:
		return "DB_READ_ONLY"
	case StatusBufferTooSmall:
		return "BUFFER_TOO_SMALL"
	case StatusNotGranted:
		return "NOT_GRANTED"
	case StatusHTTPFailed:
		return "HTTP_FAILED"
	}
	return "UNKNOWN"
}

// Statuses returns every defined Status, in ABI.md order.
func Statuses() []Status {
	return []Status{
		StatusOK, StatusNotFound, StatusBadArgument, StatusInvalidMemory,
		StatusNotAllowed, StatusAlreadyExists, StatusLimitExceeded, StatusDBError,
		StatusUnimplemented, StatusInternal, StatusCancelled, StatusDBBusy,
		StatusTxFailed, StatusTxState, StatusDBReadOnly, StatusBufferTooSmall,
		StatusNotGranted, StatusHTTPFailed,
	}
}

// RegisterFlag is a bit in rpc_register's flags argument.
type RegisterFlag int32

// Registration flags.
const (
	// FlagServerOnly marks an RPC that the host refuses, with CodePermissionDenied
	// and before any plugin code runs, when the call carries a user ID.
	FlagServerOnly RegisterFlag = 1 << 0
	// FlagSessionRequired marks an HTTP handler that the host answers with
	// 401 unless the request carries a valid Bearer session (1.1).
	FlagSessionRequired RegisterFlag = 1 << 1
)

// LogLevel is a guest log level. The numbers match zerolog's levels.
type LogLevel int32

// Log levels accepted by log and returned by log_level.
const (
	LogDebug LogLevel = 0
	LogInfo  LogLevel = 1
	LogWarn  LogLevel = 2
	LogError LogLevel = 3
	// LogDisabled is returned by log_level when nothing is logged.
	LogDisabled LogLevel = 7
)

// Engine identifies the database engine that serves db_* calls.
type Engine int32

// Engines returned by db_engine.
const (
	EngineNone     Engine = 0 // no database is configured
	EngineSQLite   Engine = 1
	EnginePostgres Engine = 2 // the shared-database backend (storage/pg)
)

// TxMode is db_begin's argument.
type TxMode int32

// Transaction modes.
const (
	TxRead  TxMode = 0 // read-only; writes fail with StatusDBReadOnly
	TxWrite TxMode = 1 // read-write; takes the write lock at begin (BEGIN IMMEDIATE on SQLite)
)

// Per-call context keys read with ctx_get. Keys ending in a dot are prefixes
// for one entry of a map (for example "header.Content-Type").
const (
	CtxUserID         = "user_id"
	CtxUsername       = "username"
	CtxUserSessionExp = "user_session_exp"
	CtxVars           = "vars"
	CtxVarPrefix      = "var."
	CtxHeaders        = "headers"
	CtxHeaderPrefix   = "header."
	CtxQuery          = "query_params"
	CtxQueryPrefix    = "query."
	CtxEnv            = "env"
	CtxEnvPrefix      = "env."
	CtxExecutionMode  = "execution_mode"
	CtxNode           = "node"
	CtxServerVersion  = "version"
	CtxClientIP       = "client_ip"
	CtxClientPort     = "client_port"
	CtxTraceID        = "trace_id"
	CtxRPCID          = "rpc_id"
	CtxPluginName     = "plugin_name"
	CtxPluginVersion  = "plugin_version"
	// Added in 1.1, for HTTP handlers.
	CtxHTTPMethod  = "http_method"
	CtxHTTPPath    = "http_path"
	CtxHTTPRoute   = "http_route"
	CtxRoutePrefix = "route."
)

// ContextKeys returns every fixed context key and prefix, in ABI.md order.
func ContextKeys() []string {
	return []string{
		CtxUserID, CtxUsername, CtxUserSessionExp, CtxVars, CtxVarPrefix,
		CtxHeaders, CtxHeaderPrefix, CtxQuery, CtxQueryPrefix, CtxEnv, CtxEnvPrefix,
		CtxExecutionMode, CtxNode, CtxServerVersion, CtxClientIP, CtxClientPort,
		CtxTraceID, CtxRPCID, CtxPluginName, CtxPluginVersion,
		CtxHTTPMethod, CtxHTTPPath, CtxHTTPRoute, CtxRoutePrefix,
	}
}

// Execution modes (ctx key execution_mode).
const (
	ModeRPC  = "rpc"
	ModeHTTP = "http"
)

// PagesPerMiB is how many 64 KiB WebAssembly memory pages make a MiB: the
// unit of the server's -max-memory and a manifest's memory_mib, which the
// host turns into pages.
const PagesPerMiB = 16

// Limits the host enforces on every plugin. ABI.md lists each one, by name
// and value, in its section 1.3, and a contract test keeps the two in step.
// Some are defaults that the server's configuration may change; those say so.
const (
	// MaxIDBytes bounds an RPC id.
	MaxIDBytes = 128
	// MaxRPCsPerPlugin bounds rpc_register calls per instance.
	MaxRPCsPerPlugin = 1024
	// MaxLogBytes bounds one log message; longer ones are cut and marked.
	MaxLogBytes = 8 << 10
	// MaxLogLinesPerSecond is the sustained rate of a plugin version's log
	// budget: the lines per second that log, stdout, stderr and the host's
	// line per http_request together may write, shared by all its
	// instances. A line over the budget is dropped and counted, and the
	// call goes on.
	MaxLogLinesPerSecond = 500
	// MaxLogBurstLines is the burst of that budget: the lines a plugin
	// version that has been quiet may write at once.
	MaxLogBurstLines = 5000
	// MaxErrorBytes bounds an error_set or panic message.
	MaxErrorBytes = 8 << 10
	// MaxCtxKeyBytes bounds a key given to ctx_get.
	MaxCtxKeyBytes = 1024
	// MaxRandomBytes bounds the buffer of one random_fill call.
	MaxRandomBytes = 64 << 10
	// MaxSQLBytes bounds one SQL statement.
	MaxSQLBytes = 64 << 10
	// MaxArgsBytes bounds one encoded argument list.
	MaxArgsBytes = 16 << 20
	// MaxSQLParams bounds the parameters of one SQL statement (?NNN and $N
	// up to it) and so the values of one argument list.
	MaxSQLParams = 999
	// MaxSQLFunctionArgs bounds the arguments of one SQL function call on
	// SQLite, as SQLite did by default until 3.48 (PostgreSQL allows 100):
	// SQLite never interrupts one call, and some functions do work in
	// the product of their arguments and a value's length (json_extract
	// scans the object once for each path).
	MaxSQLFunctionArgs = 127
	// MaxLikePatternBytes bounds the pattern of one LIKE or GLOB on
	// SQLite (SQLITE_LIMIT_LIKE_PATTERN_LENGTH, SQLite's default); a longer
	// one fails the statement with "LIKE or GLOB pattern too complex".
	MaxLikePatternBytes = 50000
	// MaxValueBytes bounds one TEXT or BLOB value, and one stored row, in
	// the database (SQLite's SQLITE_LIMIT_LENGTH): the default output
	// limit, so that a value a plugin stores can be returned to it.
	MaxValueBytes = DefaultMaxOutputBytes
	// MaxDBRelations bounds the relations (tables, indexes, views,
	// sequences) a plugin's database holds on PostgreSQL: a statement
	// that opens more locks one per relation, in the lock table that every
	// session of the PostgreSQL server shares.
	MaxDBRelations = 256
	// MaxDBTempFileBytes bounds the temporary files a plugin's database
	// holds at once: on PostgreSQL those of one of its connections (its
	// temp_file_limit), on SQLite those of all its connections together.
	// The sorts and hashes that outgrow memory spill there, on the disk
	// every database of the server shares.
	MaxDBTempFileBytes = 256 << 20
	// MaxDBMemoryBytes bounds the memory SQLite holds for a plugin's
	// database, all its connections together: page caches, prepared
	// statements, and the values a statement builds, so that a row of
	// many wide columns is refused before it takes the host's memory. It
	// is the default of the server's -plugin-db-max-memory.
	MaxDBMemoryBytes = 64 << 20
	// DefaultMaxOutputBytes bounds the output of one call (configurable).
	DefaultMaxOutputBytes = 4 << 20
	// MaxTableElements bounds the tables of a plugin: each table it
	// defines or imports must declare a maximum size, and those maxima
	// together must be at most this many elements, or the plugin is
	// refused at load.
	MaxTableElements = 1 << 16
	// MaxGlobals bounds the globals a plugin defines and imports together:
	// each costs the host about 90 bytes per instance, whatever the file
	// size. The SDKs emit at most a few dozen.
	MaxGlobals = 1 << 14
	// MaxFunctionLocals bounds the locals one function of a plugin
	// declares, as web engines do: wazero allocates for each declared
	// local at compile time, so a few bytes declaring 2^32 of them would
	// exhaust the server's memory.
	MaxFunctionLocals = 50000
	// MaxFunctionCompileCost bounds what one function of a plugin costs
	// wazero's optimizing compiler: (locals + parameters + results + the
	// widest block type's parameters and results + 1) times its block,
	// loop and if instructions, br and br_if branches and br_table
	// targets, where the compiler merges every such value. Its time and
	// memory grow with that product: a 22 KB function of 2,000 locals and
	// 2,000 blocks took 15 s and 880 MiB, one twice as large two minutes.
	// The largest function of the SDKs' plugins costs 22,698; one at this
	// bound compiles in about 0.7 s.
	MaxFunctionCompileCost = 1 << 19
	// MaxModuleCompileCost bounds the same cost over all of a plugin's
	// functions together, so that many functions under the bound cannot
	// add up to minutes of compiling (at this bound, about 10 s). A Go
	// plugin's functions cost about 1.5 million together, the other SDKs'
	// far less.
	MaxModuleCompileCost = 1 << 23
	// MaxBlockDepth bounds how deep one function nests its block, loop
	// and if instructions: wazero's compiler takes time that grows with
	// the square of the depth (5,000 nested loops took 17 s). The SDKs'
	// plugins nest at most 549 deep (Go's runtime).
	MaxBlockDepth = 1024
	// MaxFunctionLoops bounds the loops of one function, and
	// MaxModuleLoops those of a plugin: each loop gets an interrupt check,
	// and the compiler's time grows faster than their number (10,000
	// checked loops in a row took 100 s). The SDKs' plugins have at most 37
	// loops in a function, and 1,459 in all (Go).
	MaxFunctionLoops = 1024
	MaxModuleLoops   = 8192
	// MaxFunctionBlocks bounds the block, loop and if instructions and
	// br_table targets of one function, whatever its locals, and
	// MaxModuleBlockCost the sum of their squares over a plugin's
	// functions: the compiler's time grows with the square of a
	// function's blocks (8,192 in a row took 1 s, 16,384 4.7 s). The
	// SDKs' plugins have at most 1,695 in a function (Go), and a sum of
	// squares of 26.5 million; at this bound, about 4 s.
	MaxFunctionBlocks  = 1 << 13
	MaxModuleBlockCost = 1 << 28
	// MaxCallStackSlots bounds how much of wazero's call stack a call
	// of a plugin may take, in 8-byte slots: each function call counts its
	// weight, a bound of the frame wazero's compiler can build for it
	// (a slot for every value and temporary it may spill, its block
	// parameters, the stack area of its calls), and a call past the bound
	// traps. wazero grows the stack a call needs, to about 100 MB, outside
	// the memory cap: a recursion 1.5 million calls deep kept 80 MiB in an
	// instance capped at 64 KiB, and recursions that spill many values
	// grew it to 90 MiB under a count of locals and parameters. Weights
	// are far above what frames take (a small function weighs a few
	// hundred slots, a recursion of one goes some thousands deep); the
	// SDKs' plugins reach 451,155 (Go) in the tests. At this bound,
	// wazero's stack stays under 57 MiB (RATIONALE.md).
	MaxCallStackSlots = 1 << 21
	// MaxFunctionFrameSlots bounds one function's weight (see
	// MaxCallStackSlots): a frame is taken before the function's count
	// traps, so the stack may pass the count by one frame. The SDKs'
	// heaviest function weighs 219,375 (Go's runtime).
	MaxFunctionFrameSlots = 1 << 20
	// MaxDataSegments bounds a plugin's data segments: each costs the host
	// a 24-byte slice header per instance, whatever the segment holds (at
	// 2^20 segments, 24 MiB an instance). Go's linker emits about 12,000
	// per MiB of plugin, so this admits a Go plugin of about 21 MiB (the
	// Go SDK's examples are 3 MiB).
	MaxDataSegments = 1 << 18
	// MaxElementSegments bounds a plugin's element segments, and
	// MaxSegmentElements the elements they hold together: wazero keeps
	// every segment's elements per instance, active ones too. The SDKs
	// emit one segment of at most a few thousand functions.
	MaxElementSegments = 1 << 12
	MaxSegmentElements = 1 << 16
	// MaxPluginNameBytes bounds a plugin's name (its file name without
	// .wasm), so that it fits a file name and a PostgreSQL identifier.
	MaxPluginNameBytes = 63
	// MaxPatternBytes bounds an http_register path pattern.
	MaxPatternBytes = 1024
	// MaxMethodsBytes bounds http_register's comma-separated method list.
	MaxMethodsBytes = 256
	// MaxRoutesPerPlugin bounds http_register calls per instance.
	MaxRoutesPerPlugin = 256
	// MaxHeaderBytes bounds one header name plus value set by
	// output_add_header.
	MaxHeaderBytes = 8 << 10
	// MaxResponseHeaders bounds output_add_header calls per call.
	MaxResponseHeaders = 64
	// MaxLineBytes bounds one line a WASI guest writes to stdout or stderr;
	// a longer one is logged in pieces.
	MaxLineBytes = 8 << 10
	// DefaultBreakerThreshold is how many calls in a row must crash (trap,
	// panic or deadline) before the host refuses a plugin's calls with
	// code 14 (configurable).
	DefaultBreakerThreshold = 5
	// DefaultBreakerCooldownSeconds is how long, in seconds, the host then
	// refuses them (configurable).
	DefaultBreakerCooldownSeconds = 5
	// MaxURLBytes bounds the URL of one http_request (1.2).
	MaxURLBytes = 8 << 10
	// MaxOutboundHeaders bounds the request headers of one http_request.
	MaxOutboundHeaders = 64
	// MaxOutboundRedirects bounds the redirects one http_request follows;
	// one more fails with StatusHTTPFailed.
	MaxOutboundRedirects = 5
	// DefaultOutboundTimeoutSeconds is a plugin's http_request timeout when
	// its manifest sets none (configurable per plugin, within a server
	// maximum). The call's deadline bounds it too.
	DefaultOutboundTimeoutSeconds = 5
	// DefaultOutboundMaxRequestBytes bounds an http_request body when the
	// plugin's manifest sets no max_request_bytes (configurable).
	DefaultOutboundMaxRequestBytes = 1 << 20
	// DefaultOutboundMaxResponseBytes bounds an http_request response body
	// when the plugin's manifest sets no max_response_bytes (configurable).
	DefaultOutboundMaxResponseBytes = 4 << 20
)
