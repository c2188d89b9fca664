package httpapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/warden-rpc/warden/abi"
)

// readBody reads r's body, up to MaxBodyBytes. Over the limit is Nakama's
// 400 "http: request body too large", a body shorter than its
// Content-Length a 400 too; any other failure is internal.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes))
	if err == nil {
		return body, nil
	}
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		return nil, errBodyTooLarge(err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) { // the client sent less than its Content-Length
		return nil, &Error{Status: http.StatusBadRequest, Code: abi.CodeInvalidArgument, Msg: msgShortBody, Err: err}
	}
	return nil, fmt.Errorf("read body: %w", err)
}

// encoded returns an error when r's body has a Content-Encoding other than
// identity. Warden decompresses no request body (so no compression bomb can
// reach it), and a compressed body passed on as the payload would be wrong.
func encoded(r *http.Request) error {
	if enc := r.Header.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
		return fmt.Errorf("content encoding %.32q", enc)
	}
	return nil
}
