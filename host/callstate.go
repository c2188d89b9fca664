package host

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/tetratelabs/wazero/api"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/storage"
)

// phase is where a guest is: in its init, or handling a call.
type phase uint8

const (
	phaseNone phase = iota
	phaseInit
	phaseHandle
)

// registration is one rpc_register or http_register call. For an HTTP
// route, ID is the path pattern and Methods the sorted, comma-joined methods.
type registration struct {
	HTTP      bool
	ID        string
	Methods   string
	HandlerID int32
	Flags     abi.RegisterFlag
}

// callState is everything that belongs to one guest call: input, output,
// error, the result slot, the database session and the request context. Each
// instance owns one and resets it per call, so host functions allocate little.
type callState struct {
	p     *Plugin
	cc    *callCtx   // the instance's, for Close to interrupt it
	mod   api.Module // the instance's module
	phase phase
	req   *Request
	rpcID string

	output  []byte
	status  int
	headers [][2]string
	errSet  bool
	errCode abi.Code
	errMsg  string

	panicked bool
	panicMsg string

	slot    []byte
	slotSet bool

	lastErr    string
	hasLastErr bool

	db   storage.PluginSession
	regs []registration
}

// begin prepares st for a call in phase ph.
func (st *callState) begin(ph phase, req *Request, rpcID string) {
	st.phase, st.req, st.rpcID = ph, req, rpcID
	st.output, st.status, st.headers = nil, 0, nil
	st.errSet, st.errCode, st.errMsg = false, 0, ""
	st.panicked, st.panicMsg = false, ""
	st.slot, st.slotSet = nil, false
	st.lastErr, st.hasLastErr = "", false
}

// end closes what the call opened: it rolls back an open transaction and
// drops references to request data.
func (st *callState) end() {
	if st.db != nil {
		if err := st.db.Close(); err != nil {
			st.p.log.Error().Err(err).Str("rpc_id", st.rpcID).Msg("close database session")
		}
		st.db = nil
	}
	st.phase, st.req = phaseNone, nil
	st.slot = nil
}

// fail records msg as the last error and returns s, for host functions.
func (st *callState) fail(s abi.Status, msg string) abi.Status {
	st.lastErr, st.hasLastErr = msg, true
	return s
}

// session returns the call's database session, opening it on first use.
func (st *callState) session() storage.PluginSession {
	if st.db == nil {
		st.db = st.p.db.NewSession()
	}
	return st.db
}

// ctxValue resolves a ctx_get key. Map values use the ABI's map encoding.
func (st *callState) ctxValue(key string) (string, bool) {
	cfg := &st.p.host.cfg
	switch key {
	case abi.CtxNode:
		return cfg.Node, true
	case abi.CtxServerVersion:
		return cfg.ServerVersion, true
	case abi.CtxPluginName:
		return st.p.Name, true
	case abi.CtxPluginVersion:
		return st.p.Version, true
	case abi.CtxEnv:
		return encodeStringMap(st.p.env), true
	}
	if name, ok := strings.CutPrefix(key, abi.CtxEnvPrefix); ok {
		v, ok := st.p.env[name]
		return v, ok
	}
	if st.phase != phaseHandle || st.req == nil {
		return "", false
	}
	return st.requestValue(key)
}

// requestValue resolves the keys that only exist during a call.
func (st *callState) requestValue(key string) (string, bool) {
	req, u := st.req, st.req.User
	if v, ok, handled := st.httpValue(key); handled {
		return v, ok
	}
	switch key {
	case abi.CtxExecutionMode:
		return abi.ModeRPC, true
	case abi.CtxRPCID:
		return st.rpcID, true
	case abi.CtxTraceID:
		id := req.TraceID()
		return id, id != ""
	case abi.CtxClientIP:
		return req.ClientIP, req.ClientIP != ""
	case abi.CtxClientPort:
		return req.ClientPort, req.ClientPort != ""
	case abi.CtxHeaders:
		return string(encodeMultiMap(req.Headers)), true
	case abi.CtxQuery:
		return string(encodeMultiMap(req.QueryParams())), true
	}
	if name, ok := strings.CutPrefix(key, abi.CtxHeaderPrefix); ok {
		return first(req.Headers[http.CanonicalHeaderKey(name)])
	}
	if name, ok := strings.CutPrefix(key, abi.CtxQueryPrefix); ok {
		return first(req.QueryParams()[name])
	}
	if u == nil {
		return "", false
	}
	switch key {
	case abi.CtxUserID:
		return u.ID, true
	case abi.CtxUsername:
		return u.Username, u.Username != ""
	case abi.CtxUserSessionExp:
		return strconv.FormatInt(u.Expiry, 10), u.Expiry != 0
	case abi.CtxVars:
		return encodeStringMap(u.Vars), true
	}
	if name, ok := strings.CutPrefix(key, abi.CtxVarPrefix); ok {
		v, ok := u.Vars[name]
		return v, ok
	}
	return "", false
}

// httpValue resolves the keys that differ between RPCs and HTTP handlers.
// handled is false when key is not one of them.
func (st *callState) httpValue(key string) (v string, ok, handled bool) {
	hr := st.req.HTTP
	switch {
	case key == abi.CtxExecutionMode && hr != nil:
		return abi.ModeHTTP, true, true
	case key == abi.CtxRPCID && hr != nil:
		return "", false, true
	case key == abi.CtxHTTPMethod:
		return httpField(hr, func(hr *HTTPRequest) string { return hr.Method })
	case key == abi.CtxHTTPPath:
		return httpField(hr, func(hr *HTTPRequest) string { return hr.Path })
	case key == abi.CtxHTTPRoute:
		return httpField(hr, func(hr *HTTPRequest) string { return hr.Route })
	}
	name, isRoute := strings.CutPrefix(key, abi.CtxRoutePrefix)
	if !isRoute {
		return "", false, false
	}
	if hr != nil {
		for _, p := range hr.Params {
			if p[0] == name {
				return p[1], true, true
			}
		}
	}
	return "", false, true
}

// httpField returns field(hr), absent for an RPC (nil hr).
func httpField(hr *HTTPRequest, field func(*HTTPRequest) string) (v string, ok, handled bool) {
	if hr == nil {
		return "", false, true
	}
	return field(hr), true, true
}

func first(vs []string) (string, bool) {
	if len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

func encodeMultiMap(m map[string][]string) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return abi.EncodeMap(m, keys)
}

func encodeStringMap(m map[string]string) string {
	mm := make(map[string][]string, len(m))
	for k, v := range m {
		mm[k] = []string{v}
	}
	return string(encodeMultiMap(mm))
}
