package httpapi

import (
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/host"
)

// Messages of the errors that RpcFuncHttp answers before any plugin runs, as
// Nakama spells them.
const (
	msgHTTPKeyInvalid   = "HTTP key invalid"
	msgAuthTokenInvalid = "Auth token invalid"
	msgNoAuth           = "Auth token or HTTP key required"
	msgRPCIDRequired    = "RPC ID must be set"
	msgBadJSON          = "json: cannot unmarshal object into Go value of type string"
	msgInternal         = "Internal Server Error"
	msgBadEncoding      = "unsupported content encoding"
	msgShortBody        = "request body shorter than its Content-Length"
	msgNotFound         = "Not Found"
	// msgSessionUnchecked is Warden's: a cluster node could not reach the
	// database to check a session for revocation (503, code 14).
	msgSessionUnchecked = "Session could not be checked, retry"
)

// Messages of the host's refusals (host.Refusal), as Nakama spells them
// where it has the case.
const (
	msgRPCNotFound = "RPC function not found"
	msgServerOnly  = "rpc is only callable via server to server"
	msgClosing     = "server is shutting down"
	msgCoolingDown = "plugin is cooling down after repeated crashes"
	// msgReplaced answers a plugin route request that reloads overtook
	// more often than it is routed again (maxReroutes).
	msgReplaced = "plugin route was reloaded, retry"
)

// refusal is how the API answers one of the host's refusals.
type refusal struct {
	// msg is the message the client sees.
	msg string
	// byPlugin answers in the shape of the plugin's own runtime error,
	// naming the plugin: Nakama's plugins refuse a server-only call
	// themselves, with runtime.NewError, and a plugin's breaker is its
	// own. Nakama's API answers the others itself, in the fixed shape.
	byPlugin bool
}

// refusals words each host.Refusal.
var refusals = map[host.Refusal]refusal{
	host.RefusedNotFound:    {msgRPCNotFound, false},
	host.RefusedClosing:     {msgClosing, false},
	host.RefusedServerOnly:  {msgServerOnly, true},
	host.RefusedCoolingDown: {msgCoolingDown, true},
	host.RefusedReplaced:    {msgReplaced, false},
}

// callAnswer returns the message a client sees for ce, and whether it is
// answered as the plugin's own error. A plugin's failure carries its
// message; a refusal is worded here, since httpapi owns the wire text.
func callAnswer(ce *host.CallError) (msg string, byPlugin bool) {
	if ce.Refused == host.NotRefused {
		return ce.Message, true
	}
	if r, ok := refusals[ce.Refused]; ok {
		return r.msg, r.byPlugin
	}
	return ce.Refused.String(), false // a refusal this table lacks; a test keeps it complete
}

// Bodies that do not have the {"error","message","code"} shape. The first
// is Nakama's literal, space included; the others are grpc-gateway's
// routing errors.
const (
	bodyTooLarge         = `{"code":3, "message":"http: request body too large"}`
	bodyNotFound         = `{"code":5,"message":"` + msgNotFound + `"}`
	bodyMethodNotAllowed = `{"code":12,"message":"Method Not Allowed"}`
)

// Response header and content type names.
const (
	headerPlugin    = "Warden-Plugin"
	contentTypeJSON = "application/json"
)

// markPlugin names the plugin version that answered r, in the response's
// Warden-Plugin header and, through the request's info, in its access and
// error log lines, so that "which code ran?" always has an answer.
func markPlugin(w http.ResponseWriter, r *http.Request, plugin, version string) {
	var v []string
	if ri := info(w); ri.srv != nil {
		v = ri.srv.marks.value(plugin, version)
	} else {
		v = []string{plugin + "@" + version}
	}
	setMark(w, v)
}

// setMark sets the Warden-Plugin header and the request's plugin to the
// prebuilt value v (see pluginMarks).
func setMark(w http.ResponseWriter, v []string) {
	w.Header()[headerPlugin] = v
	info(w).plugin = v[0]
}

// maxPluginMarks bounds pluginMarks; reloads make new versions.
const maxPluginMarks = 1024

// recentMarks is how many of the newest values pluginMarks keeps in the
// list it scans before its map.
const recentMarks = 8

// pluginMarks holds a prebuilt Warden-Plugin header value for each plugin
// version that answered, so that answering costs no allocation. The values
// are shared by every response and never modified.
//
// The set is copied on write: a new plugin version is rare (a reload),
// and a read then takes no lock, whose atomic counter every request on
// every core would otherwise update. A read scans the newest values
// first: the host names a plugin version with the same two strings on
// every call, so comparing them usually compares pointers, where the map
// would hash both and compare the key again (about 300 instructions an
// RPC; docs/benchmarks.md, "Issue 12, fourteenth pass").
type pluginMarks struct {
	mu sync.Mutex // serialises writers
	m  atomic.Pointer[markSet]
}

// markSet is one copy of pluginMarks' values: the newest in recent, every
// one in all.
type markSet struct {
	recent []markEntry
	all    map[[2]string][]string
}

// markEntry is one plugin version's value.
type markEntry struct {
	plugin, version string
	v               []string
}

// value returns the header value "plugin@version".
func (pm *pluginMarks) value(plugin, version string) []string {
	k := [2]string{plugin, version}
	if set := pm.m.Load(); set != nil {
		for i := range set.recent {
			if e := &set.recent[i]; e.plugin == plugin && e.version == version {
				return e.v
			}
		}
		if v, ok := set.all[k]; ok {
			return v
		}
	}
	pm.mu.Lock()
	defer pm.mu.Unlock()
	old := pm.m.Load()
	if old != nil {
		if v, ok := old.all[k]; ok {
			return v // another request added it
		}
	}
	next := &markSet{all: make(map[[2]string][]string)}
	v := []string{plugin + "@" + version}
	next.recent = append(next.recent, markEntry{plugin, version, v})
	if old != nil && len(old.all) < maxPluginMarks {
		maps.Copy(next.all, old.all)
		next.recent = append(next.recent, old.recent[:min(len(old.recent), recentMarks-1)]...)
	}
	next.all[k] = v
	pm.m.Store(next)
	return v
}

// len returns the number of values held.
func (pm *pluginMarks) len() int {
	if set := pm.m.Load(); set != nil {
		return len(set.all)
	}
	return 0
}

// Error is an error that the API answers with before or instead of a plugin
// call: an HTTP status and a JSON body built from Code and Msg. Handlers
// return it and Server.writeError renders and logs it.
type Error struct {
	// Status is the HTTP status.
	Status int
	// Code is the gRPC-style code in the body.
	Code abi.Code
	// Msg is the message in the body.
	Msg string
	// Err is the cause, for logs only; it never reaches the client.
	Err error
	// raw, when set, is sent as the body instead of the one built from Code
	// and Msg.
	raw string
	// hint, when set, tells the client what to do; it is logged at info
	// level, for a mistake whose body cannot say it.
	hint string
}

// Error implements error.
func (e *Error) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// body returns the response body: raw, or Nakama's fixed-error shape
// {"error":Msg,"message":Msg,"code":Code}.
func (e *Error) body() []byte {
	if e.raw != "" {
		return []byte(e.raw)
	}
	return fixedBody(e.Code, e.Msg)
}

// newError returns an Error whose status follows from code.
func newError(code abi.Code, msg string, cause error) *Error {
	return &Error{Status: code.HTTPStatus(), Code: code, Msg: msg, Err: cause}
}

func errHTTPKeyInvalid() error { return newError(abi.CodeUnauthenticated, msgHTTPKeyInvalid, nil) }

func errAuthTokenInvalid(cause error) error {
	return newError(abi.CodeUnauthenticated, msgAuthTokenInvalid, cause)
}

func errNoAuth() error        { return newError(abi.CodeUnauthenticated, msgNoAuth, nil) }
func errRPCIDRequired() error { return newError(abi.CodeInvalidArgument, msgRPCIDRequired, nil) }

// hintBadJSON is what a client whose RPC body is not a JSON string should
// do; Nakama's fixed message does not say it.
const hintBadJSON = `wrap the payload in a JSON string (body "{\"a\":1}", not {"a":1}), or add ?unwrap to send it as is`

// errBadJSON is Nakama's fixed answer to a body that is not a JSON string;
// cause, the real reason, and a hint are logged.
func errBadJSON(cause error) error {
	e := newError(abi.CodeInvalidArgument, msgBadJSON, cause)
	e.hint = hintBadJSON
	return e
}

func errBadEncoding(cause error) error {
	return newError(abi.CodeInvalidArgument, msgBadEncoding, cause)
}

func errBodyTooLarge(cause error) error {
	return &Error{Status: http.StatusBadRequest, Code: abi.CodeInvalidArgument, Msg: "request body too large", Err: cause, raw: bodyTooLarge}
}

func errRouteNotFound() error {
	return &Error{Status: http.StatusNotFound, Code: abi.CodeNotFound, Msg: msgNotFound, raw: bodyNotFound}
}

func errMethodNotAllowed() error {
	return &Error{Status: http.StatusNotImplemented, Code: abi.CodeUnimplemented, Msg: "Method Not Allowed", raw: bodyMethodNotAllowed}
}

// fixedBody returns {"error":msg,"message":msg,"code":code}, the shape of
// Nakama's errors that no runtime function produced.
func fixedBody(code abi.Code, msg string) []byte {
	b, _ := json.Marshal(struct {
		Error   string   `json:"error"`
		Message string   `json:"message"`
		Code    abi.Code `json:"code"`
	}{msg, msg, code})
	return b
}

// runtimeBody returns {"code":code,"error":{"Message":msg,"Code":raw},
// "message":msg}: what Nakama writes for runtime.NewError(msg, raw), whose
// struct keeps the code the function gave while the outer code is
// normalized.
func runtimeBody(code, raw abi.Code, msg string) []byte {
	type runtimeError struct {
		Message string
		Code    abi.Code
	}
	b, _ := json.Marshal(struct {
		Code    abi.Code     `json:"code"`
		Error   runtimeError `json:"error"`
		Message string       `json:"message"`
	}{code, runtimeError{msg, raw}, msg})
	return b
}

// writeError writes err as a JSON error response and logs it. It is the only
// place that turns errors into responses: an *Error gives its own status and
// body; a *host.CallError gives the status of its normalized code, in the
// runtime.NewError shape when it is the plugin's (callAnswer) and the fixed
// shape when the host refused the call itself; anything else is an internal
// error. 5xx responses are logged at error level, errors with a hint at
// info, others at debug.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := http.StatusInternalServerError, fixedBody(abi.CodeInternal, msgInternal)
	var (
		e  *Error
		ce *host.CallError
	)
	switch {
	case errors.As(err, &e):
		status, body = e.Status, e.body()
	case errors.As(err, &ce):
		code := ce.Code.Normalize()
		msg, byPlugin := callAnswer(ce)
		status, body = code.HTTPStatus(), fixedBody(code, msg)
		if byPlugin {
			body = runtimeBody(code, ce.Code, msg)
			markPlugin(w, r, ce.Plugin, ce.Version)
		}
	}
	lvl := zerolog.DebugLevel
	switch {
	case status >= http.StatusInternalServerError:
		lvl = zerolog.ErrorLevel
	case ce != nil && errors.Is(ce.Err, host.ErrPluginNotLoaded): // an operator should see why the RPC is gone
		lvl = zerolog.WarnLevel
	case e != nil && e.hint != "":
		lvl = zerolog.InfoLevel
	}
	ev := event(w, r, lvl)
	if ce != nil && ce.Err != nil {
		ev = ev.AnErr("cause", ce.Err)
	}
	if e != nil && e.hint != "" {
		ev = ev.Str("hint", e.hint)
	}
	if p := info(w).plugin; p != "" {
		ev = ev.Str("plugin", p)
	}
	ev.Err(err).Int("status", status).Msg("request failed")
	w.Header()["Content-Type"] = contentTypeJSONValue
	w.WriteHeader(status)
	_, werr := w.Write(body)
	logWriteError(w, r, werr)
}

// logWriteError logs, at debug level, a failure to write a response, which
// means the client went away; there is no one left to tell.
func logWriteError(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		event(w, r, zerolog.DebugLevel).Err(err).Msg("write response")
	}
}
