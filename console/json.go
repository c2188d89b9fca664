package console

import (
	"encoding/json"
	"errors"
	"net/http"
)

// apiError is a console API refusal: its status and the message the page
// shows. Err is the cause, for the log only.
type apiError struct {
	status int
	msg    string
	err    error
}

func (e *apiError) Error() string {
	if e.err != nil {
		return e.msg + ": " + e.err.Error()
	}
	return e.msg
}

func (e *apiError) Unwrap() error { return e.err }

// apiErr returns an *apiError.
func apiErr(status int, msg string, cause error) error {
	return &apiError{status: status, msg: msg, err: cause}
}

// handle adapts a handler that returns an error: an *apiError is answered
// with its status and message, any other error with 500; server errors are
// logged with their cause.
func (c *Console) handle(h func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		ae := &apiError{status: http.StatusInternalServerError, msg: "internal error", err: err}
		errors.As(err, &ae)
		if ae.status >= 500 {
			c.log.Error().Err(err).Str("path", r.URL.Path).Msg("console request failed")
		}
		writeError(w, ae.status, ae.msg)
	}
}

// writeJSON writes v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b) // the client went away; nothing to do
	return nil
}

// writeError writes {"error": msg} with status.
func writeError(w http.ResponseWriter, status int, msg string) {
	_ = writeJSON(w, status, struct {
		Error string `json:"error"`
	}{msg})
}

// readJSON decodes a JSON body of at most limit bytes into v.
func readJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	if err := dec.Decode(v); err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			return apiErr(http.StatusRequestEntityTooLarge, "request too large", err)
		}
		return apiErr(http.StatusBadRequest, "bad request body: "+err.Error(), err)
	}
	return nil
}
