package httpapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/warden-rpc/warden/abi"
)

// smallBodyBytes is the largest announced body that readBody reads into one
// buffer of the announced size; a larger one grows as bytes arrive, so that
// a client cannot make the server allocate what it never sends.
const smallBodyBytes = 4 << 10

// slowBody is how long reading a request's body may take before the write
// deadline is restarted after it: a small part of writeMargin.
const slowBody = 100 * time.Millisecond

// readBody reads r's body, up to MaxBodyBytes, and restarts the write
// deadline after a slow one (see restartWriteDeadline). Over the limit is
// Nakama's 400 "http: request body too large", a body shorter than its
// Content-Length a 400 too; any other failure is internal.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	var body []byte
	var err error
	if n := r.ContentLength; n >= 0 && n <= min(smallBodyBytes, s.cfg.MaxBodyBytes) {
		body = make([]byte, n) // net/http's body ends at its Content-Length
		_, err = io.ReadFull(r.Body, body)
	} else {
		body, err = io.ReadAll(http.MaxBytesReader(connWriter(w), r.Body, s.cfg.MaxBodyBytes))
	}
	if err == nil {
		s.restartWriteDeadline(w)
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

// restartWriteDeadline restarts the write deadline, which runs from the
// end of the request headers, once a body took more than slowBody to read,
// so that a slow upload eats neither into the call's time nor into its
// answer's: an RPC's or a plugin route's, whose bodies may take up to the
// read timeout, longer than the write timeout. A body read within slowBody
// leaves the call its whole time and the write most of writeMargin, so the
// usual small body costs no new deadline. Writers that cannot set
// deadlines (httptest) are fine without.
func (s *Server) restartWriteDeadline(w http.ResponseWriter) {
	if info(w).bodyElapsed() > slowBody {
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(s.timeouts.Write))
	}
}

// encoded returns an error when r's body has a Content-Encoding other than
// identity. Warden decompresses no request body (so no compression bomb can
// reach it), and a compressed body passed on as the payload would be wrong.
func encoded(r *http.Request) error {
	// net/http canonicalizes header names, so the map is read directly.
	if enc := r.Header["Content-Encoding"]; len(enc) > 0 && enc[0] != "" && !strings.EqualFold(enc[0], "identity") {
		return fmt.Errorf("content encoding %.32q", enc[0])
	}
	return nil
}
