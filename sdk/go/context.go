package warden

import (
	"strconv"

	"github.com/warden-rpc/warden/sdk/go/internal/sys"
	"github.com/warden-rpc/warden/sdk/go/internal/wire"
)

// Context keys of ctx_get (ABI.md 3.3). Keys that end in a dot are
// prefixes for one entry of a map, as in "header.Content-Type".
const (
	KeyUserID         = "user_id"
	KeyUsername       = "username"
	KeyUserSessionExp = "user_session_exp"
	KeyVars           = "vars"
	KeyVarPrefix      = "var."
	KeyHeaders        = "headers"
	KeyHeaderPrefix   = "header."
	KeyQueryParams    = "query_params"
	KeyQueryPrefix    = "query."
	KeyEnv            = "env"
	KeyEnvPrefix      = "env."
	KeyExecutionMode  = "execution_mode"
	KeyNode           = "node"
	KeyVersion        = "version"
	KeyClientIP       = "client_ip"
	KeyClientPort     = "client_port"
	KeyTraceID        = "trace_id"
	KeyRPCID          = "rpc_id"
	KeyPluginName     = "plugin_name"
	KeyPluginVersion  = "plugin_version"
	KeyHTTPMethod     = "http_method"
	KeyHTTPPath       = "http_path"
	KeyHTTPRoute      = "http_route"
	KeyRoutePrefix    = "route."
)

// Context reads the current call's context: who called, how, and the
// server's environment. Every getter asks the host when called, and reports
// false for an absent value: a server-to-server call has no user ID, and in
// init only env, node, version and the plugin keys exist. A Context is
// valid only during the call it was given to.
type Context struct {
	_ [0]func() // not comparable
}

// GetBytes returns the raw value of key as ctx_get gives it.
func (c *Context) GetBytes(key string) ([]byte, bool) {
	b, st := sys.CtxGet(key)
	return b, st == sys.OK
}

// Get returns the value of key as text.
func (c *Context) Get(key string) (string, bool) {
	b, ok := c.GetBytes(key)
	return string(b), ok
}

// getMap decodes the map at key; an absent or malformed map is empty.
func (c *Context) getMap(key string) []wire.Pair {
	b, ok := c.GetBytes(key)
	if !ok {
		return nil
	}
	pairs, err := wire.DecodeMap(b)
	if err != nil {
		return nil
	}
	return pairs
}

// getMulti returns the map at key with every value of a repeated key.
func (c *Context) getMulti(key string) map[string][]string {
	m := map[string][]string{}
	for _, p := range c.getMap(key) {
		m[p.Key] = append(m[p.Key], p.Value)
	}
	return m
}

// getSingle returns the map at key; a repeated key keeps its last value.
func (c *Context) getSingle(key string) map[string]string {
	m := map[string]string{}
	for _, p := range c.getMap(key) {
		m[p.Key] = p.Value
	}
	return m
}

// UserID returns the caller's user ID; false for a server-to-server call.
func (c *Context) UserID() (string, bool) { return c.Get(KeyUserID) }

// Username returns the caller's username; false without a user.
func (c *Context) Username() (string, bool) { return c.Get(KeyUsername) }

// SessionExpiry returns when the caller's session expires, in Unix seconds;
// false without a user.
func (c *Context) SessionExpiry() (int64, bool) {
	s, ok := c.Get(KeyUserSessionExp)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// Vars returns the caller's session variables; empty without a user.
func (c *Context) Vars() map[string]string { return c.getSingle(KeyVars) }

// Var returns one session variable.
func (c *Context) Var(name string) (string, bool) { return c.Get(KeyVarPrefix + name) }

// Headers returns the request headers, keyed by canonical name
// ("Content-Type") with every value, as http.Header. Authorization is
// never included, except for open HTTP handlers.
func (c *Context) Headers() map[string][]string { return c.getMulti(KeyHeaders) }

// Header returns the first value of a header; name is case-insensitive.
func (c *Context) Header(name string) (string, bool) { return c.Get(KeyHeaderPrefix + name) }

// QueryParams returns the query parameters with every value, as
// url.Values, without http_key.
func (c *Context) QueryParams() map[string][]string { return c.getMulti(KeyQueryParams) }

// Query returns the first value of a query parameter; name is case-sensitive.
func (c *Context) Query(name string) (string, bool) { return c.Get(KeyQueryPrefix + name) }

// Env returns the plugin environment from the server's configuration.
func (c *Context) Env() map[string]string { return c.getSingle(KeyEnv) }

// EnvVar returns one value of the plugin environment.
func (c *Context) EnvVar(name string) (string, bool) { return c.Get(KeyEnvPrefix + name) }

// ExecutionMode returns "rpc" for an RPC and "http" for an HTTP handler.
func (c *Context) ExecutionMode() (string, bool) { return c.Get(KeyExecutionMode) }

// Node returns the server's node name.
func (c *Context) Node() (string, bool) { return c.Get(KeyNode) }

// ServerVersion returns the server's version.
func (c *Context) ServerVersion() (string, bool) { return c.Get(KeyVersion) }

// ClientIP returns the client's IP address.
func (c *Context) ClientIP() (string, bool) { return c.Get(KeyClientIP) }

// ClientPort returns the client's port; false when absent or not a port.
func (c *Context) ClientPort() (int, bool) {
	s, ok := c.Get(KeyClientPort)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 16)
	return int(n), err == nil
}

// TraceID returns the request's trace id.
func (c *Context) TraceID() (string, bool) { return c.Get(KeyTraceID) }

// RPCID returns the lowercased id of the RPC being called; false for an
// HTTP handler.
func (c *Context) RPCID() (string, bool) { return c.Get(KeyRPCID) }

// PluginName returns this plugin's name: its file name without ".wasm".
func (c *Context) PluginName() (string, bool) { return c.Get(KeyPluginName) }

// PluginVersion returns the first 12 hex digits of the SHA-256 of this
// plugin's .wasm file.
func (c *Context) PluginVersion() (string, bool) { return c.Get(KeyPluginVersion) }

// Logger returns the logger for this call.
func (c *Context) Logger() Logger { return Logger{} }
