package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/julienschmidt/httprouter"

	"github.com/warden-rpc/warden/host"
)

// rpc returns the handler of Nakama's RpcFuncHttp for caller, in Nakama's
// order: authenticate, check the id, read the payload, call, answer. The
// host looks the id up, so an unknown id is refused after the payload is
// read (Nakama looks it up first).
func (s *Server) rpc(caller RPCCaller, rpcID func(httprouter.Params) string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
		query := newQuery(r.URL.RawQuery)
		key, _ := query.get(paramHTTPKey)
		user, err := s.authenticate(w, r, key)
		if err != nil {
			return err
		}
		id := rpcID(ps)
		if id == "" {
			return errRPCIDRequired()
		}
		_, unwrap := query.get(paramUnwrap)
		payload, err := s.readPayload(w, r, query, unwrap)
		if err != nil {
			return err
		}
		if s.rpcRequests != nil {
			info(w).reqs = s.rpcRequests
		}
		req := newHostRequest(w, r, id, payload, user, query)
		start := s.startCall(w, req)
		res, err := caller.Call(r.Context(), req)
		if s.cfg.Observer != nil {
			s.observeRPC(id, start, len(payload), res, err)
		}
		if err != nil {
			return err
		}
		return writeResult(w, r, res, unwrap)
	}
}

// readPayload returns the call's payload. A POST body, bounded by
// MaxBodyBytes, is decoded with decodePayload. A GET has no body; its
// payload is the "payload" query parameter, which also stays in the query
// parameters. Nakama passes an empty payload for GET (heroiclabs/nakama#400),
// which breaks nakama-js's rpcHttpKey; reading the parameter fixes that.
//
// # Errors
//
// readPayload refuses a body with a Content-Encoding (400, code 3): no
// request decompression is done, and handing compressed bytes to a plugin
// as if they were the payload would be worse than refusing. A body over the
// limit gives Nakama's 400 "http: request body too large", a failed read an
// internal error, and a bad body decodePayload's error.
func (s *Server) readPayload(w http.ResponseWriter, r *http.Request, q query, unwrap bool) ([]byte, error) {
	if r.Method != http.MethodPost {
		if p, ok := q.get(paramPayload); ok {
			return []byte(p), nil
		}
		return nil, nil
	}
	if err := encoded(r); err != nil {
		return nil, errBadEncoding(err)
	}
	body, err := s.readBody(w, r) // restarts the write deadline after a slow body
	if err != nil {
		return nil, err
	}
	return decodePayload(body, unwrap)
}

// decodePayload turns a POST body into the call's payload, as Nakama does:
// an empty body is an empty payload; with unwrap the body is the payload;
// otherwise the body must be a JSON string, whose value is the payload (JSON
// null gives an empty payload).
//
// # Errors
//
// A body that is not a JSON string gives Nakama's 400 with the fixed message
// "json: cannot unmarshal object into Go value of type string", whatever the
// actual problem.
func decodePayload(body []byte, unwrap bool) ([]byte, error) {
	if unwrap || len(body) == 0 {
		return body, nil
	}
	var s string
	if err := json.Unmarshal(body, &s); err != nil {
		return nil, errBadJSON(err)
	}
	return []byte(s), nil
}

// newHostRequest builds the host's request. Headers are all request headers
// but Authorization (credentials never reach plugins, unlike in Nakama) and
// Grpc-Timeout (which Nakama overwrites on every request). The query is
// given without http_key.
//
// # Notes
//
// The client address is the TCP peer. X-Forwarded-For is not trusted: any
// client can set it, and Warden does not know how many proxies it is behind.
// Proxy support, if added, must be opt-in with a proxy count as Nakama's
// socket.proxy_count.
func newHostRequest(w http.ResponseWriter, r *http.Request, id string, payload []byte, user *host.User, q query) *host.Request {
	// The plugin sees the request's own header map, less what it must not
	// see; nothing after this handler reads those two.
	headers := r.Header
	delete(headers, "Authorization") // net/http's keys are canonical: Header.Del without canonicalizing
	delete(headers, "Grpc-Timeout")
	rawQuery, vals := q.forPlugin()
	peer := peerOf(r)
	var req *host.Request
	if rw, ok := w.(*requestWriter); ok {
		req = &rw.hostReq // no allocation of its own
	} else {
		req = new(host.Request)
	}
	*req = host.Request{
		ID:         id,
		Payload:    payload,
		User:       user,
		Headers:    headers,
		Query:      vals,
		RawQuery:   rawQuery,
		ClientIP:   peer.ip,
		ClientPort: peer.port,
		Trace:      info(w),
	}
	return req
}

// writeResult writes a successful call. Without unwrap the body is
// {"payload":"<output as a JSON string>"}, with Go's HTML escaping, as
// Nakama's json.Marshal of map[string]string{"payload": ...} writes it. With
// unwrap the output is written as is, with the request's Content-Type, or
// text/plain when there is none.
func writeResult(w http.ResponseWriter, r *http.Request, res host.Result, unwrap bool) error {
	if res.Plugin != "" {
		markPlugin(w, r, res.Plugin, res.Version)
	}
	body := res.Output
	if unwrap {
		// The request's own value, shared rather than copied (net/http
		// only reads it); [:1:1] keeps anyone's append off it.
		ct := r.Header["Content-Type"]
		if len(ct) == 0 || ct[0] == "" {
			ct = textPlainValue
		}
		w.Header()["Content-Type"] = ct[:1:1]
	} else {
		var err error
		body, err = json.Marshal(struct {
			Payload string `json:"payload"`
		}{string(res.Output)})
		if err != nil {
			return fmt.Errorf("encode result: %w", err)
		}
		w.Header()["Content-Type"] = contentTypeJSONValue
	}
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(body)
	logWriteError(w, r, err)
	return nil
}

// echoCaller is the RPCCaller of the native echo route: it returns the
// payload, with no WebAssembly involved.
type echoCaller struct{}

// Call returns req's payload as the output.
func (echoCaller) Call(_ context.Context, req *host.Request) (host.Result, error) {
	return host.Result{Output: req.Payload}, nil
}

// nativeTest is the native twin of the seed plugin's GET /test handler, for
// benchmarks: the same answer, without WebAssembly.
func nativeTest(w http.ResponseWriter, _ *http.Request, _ httprouter.Params) error {
	_, _ = w.Write([]byte("You hit the new endpoint!")) // the client went away; nothing to do
	return nil
}
