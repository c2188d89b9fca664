package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/julienschmidt/httprouter"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/accounts"
)

// gatewayError returns an Error in grpc-gateway's shape, which Nakama's
// non-RPC endpoints answer with: {"code":N,"message":"..."}, no "error"
// key. Server.writeError writes it like any other Error.
func gatewayError(code abi.Code, msg string, cause error) *Error {
	return &Error{Status: code.HTTPStatus(), Code: code, Msg: msg, Err: cause, raw: gatewayBody(code, msg)}
}

// gatewayBody returns {"code":code,"message":msg}.
func gatewayBody(code abi.Code, msg string) string {
	b, _ := json.Marshal(struct {
		Code    abi.Code `json:"code"`
		Message string   `json:"message"`
	}{code, msg})
	return string(b)
}

// gateway adapts a handler of the account API to grpc-gateway's error
// handling: every error is answered in the gateway shape, keeping an
// *accounts.Error's or an *Error's code and message, and a code 16 sets
// WWW-Authenticate to the message, as grpc-gateway's
// DefaultHTTPErrorHandler does.
func gateway(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, ps httprouter.Params) error {
		err := h(w, r, ps)
		if err == nil {
			return nil
		}
		e := toGateway(err)
		if e.Code == abi.CodeUnauthenticated {
			w.Header().Set("WWW-Authenticate", e.Msg)
		}
		return e
	}
}

// toGateway returns err as a gateway-shaped *Error.
func toGateway(err error) *Error {
	var (
		ae *accounts.Error
		e  *Error
	)
	switch {
	case errors.As(err, &e) && e.raw != "":
		return e // already in the gateway shape, as "request body too large"
	case errors.As(err, &ae):
		return gatewayError(ae.Code.Normalize(), ae.Msg, err)
	case e != nil:
		return gatewayError(e.Code, e.Msg, e.Err)
	}
	return gatewayError(abi.CodeInternal, msgInternal, err)
}
